#[may::coroutine(crate = my_may)]
fn work() {}

fn main() {}
