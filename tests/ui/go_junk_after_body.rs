fn main() {
    let _ = may::go!(|| (), stack = "8KiB");
}
