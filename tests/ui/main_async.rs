#[may::main]
async fn main() {}
