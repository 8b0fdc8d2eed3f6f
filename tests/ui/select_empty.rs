fn main() {
    may::select! {};
}
