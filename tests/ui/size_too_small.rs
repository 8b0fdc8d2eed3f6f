fn main() {
    let _ = may::go!(stack = 1024, || ());
}
