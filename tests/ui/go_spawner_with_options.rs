fn main() {
    let _ = may::go!(stack = "8KiB", may::coroutine::Builder::new(), || ());
}
