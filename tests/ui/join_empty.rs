fn main() {
    let () = may::join!();
}
