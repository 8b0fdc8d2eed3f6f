#[may::coroutine]
extern "C" fn work() -> u32 {
    1
}

fn main() {}
