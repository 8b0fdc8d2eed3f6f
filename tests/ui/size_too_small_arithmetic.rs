fn main() {
    let _ = may::join!(stack = 2 * 1024, 1, 2);
}
