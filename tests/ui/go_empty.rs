fn main() {
    let _ = may::go!();
}
