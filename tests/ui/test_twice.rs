#[may::test]
#[test]
fn twice() {}

fn main() {}
