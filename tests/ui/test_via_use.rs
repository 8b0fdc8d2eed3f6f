// `use may::test;` makes a bare `#[test]` may's attribute too; it is refused the same way.
use may::test;

#[test(workers = 1)]
fn plain_test() {}

fn main() {}
