fn main() {
    let pool = vec![1, 2, 3];
    let _ = may::go!(pool, || ());
}
