#[may::coroutine(name = 5)]
fn work() {}

fn main() {}
