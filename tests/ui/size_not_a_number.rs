#[may::test(stack = 1.5)]
fn t() {}

fn main() {}
