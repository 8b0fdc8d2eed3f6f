#[may::main(stack = "64 parsecs")]
fn main() {}
