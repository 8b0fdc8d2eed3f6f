//! Profiling driver: a `select!` over a prefilled channel and an empty one, in a loop (for
//! `perf record`). `cargo run --release -p may-bench --bin select_profile`
fn main() {
    let n = 5_000_000;
    let (tx, rx) = may::sync::mpmc::unbounded::<usize>();
    let (_tx2, rx2) = may::sync::mpmc::unbounded::<usize>();
    for i in 0..n {
        tx.send(i).expect("receiver alive");
    }
    let start = std::time::Instant::now();
    let sum = may::coroutine::spawn(move || {
        let mut sum = 0usize;
        for _ in 0..n {
            sum += may::select! {
                recv(rx) -> m => m.expect("prefilled"),
                recv(rx2) -> m => m.expect("never closed"),
            };
        }
        sum
    })
    .join()
    .expect("selector");
    println!(
        "{:.1} ns per select! (sum {sum})",
        start.elapsed().as_nanos() as f64 / n as f64
    );
}
