#[may::main(workers)]
fn main() {}
