fn main() {
    let () = may::join!(stack = "64KiB");
}
