fn main() {
    let (_tx, rx) = may::sync::mpmc::unbounded::<u8>();
    may::select! {
        recv(rx) -> _m => {}
        default(std::time::Duration::ZERO, std::time::Duration::MAX) => {}
    }
}
