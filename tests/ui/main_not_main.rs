#[may::main]
fn start() {}

fn main() {}
