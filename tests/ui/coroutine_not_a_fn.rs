#[may::coroutine]
struct NotAFunction;

fn main() {}
