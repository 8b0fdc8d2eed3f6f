fn main() {
    let (tx, _rx) = may::sync::mpmc::unbounded::<u8>();
    may::select! {
        recv(tx) -> _m => {}
    }
}
