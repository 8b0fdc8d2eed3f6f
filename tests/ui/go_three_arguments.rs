// may 0.3's `go!(cqueue, token, f)` form does not exist.
fn main() {
    may::coroutine::scope(|s| {
        may::go!(s, 0, |_: u32| ());
    });
}
