struct Server;

impl Server {
    #[may::coroutine]
    fn serve(&self) {}
}

fn main() {}
