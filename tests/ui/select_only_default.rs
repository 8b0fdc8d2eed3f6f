fn main() {
    may::select! {
        default => {}
    }
}
