fn main() {
    let _ = may::go!(stack = "8KiB", name = "a", stack = "16KiB", || ());
}
