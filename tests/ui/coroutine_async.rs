#[may::coroutine]
async fn work() -> u32 {
    1
}

fn main() {}
