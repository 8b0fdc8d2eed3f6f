fn main() {
    let (tx, _rx) = may::sync::mpmc::unbounded::<u8>();
    may::select! {
        send(tx) -> _res => {}
    }
}
