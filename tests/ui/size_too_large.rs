#[may::coroutine(stack = "2GiB")]
fn work() {}

fn main() {}
