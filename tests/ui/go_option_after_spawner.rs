fn main() {
    let _ = may::go!(may::coroutine::Builder::new(), name = "conn", || ());
}
