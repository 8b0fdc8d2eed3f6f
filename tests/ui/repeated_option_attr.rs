#[may::test(workers = 1, stack = "64KiB", workers = 2)]
fn t() {}

fn main() {}
