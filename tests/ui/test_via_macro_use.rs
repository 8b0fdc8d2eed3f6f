// `#[macro_use] extern crate may;` (the first line of most may 0.3 files) brings may's `test`
// attribute into scope: a bare `#[test]` must not silently become `#[may::test]`.
#[macro_use]
extern crate may;

#[test]
fn plain_test() {
    std::thread::sleep(std::time::Duration::from_millis(1));
}

#[may::test]
fn written_out_is_fine() {}

fn main() {
    let _ = go!(|| ()).join();
}
