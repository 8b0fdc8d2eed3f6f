//! Profiling driver: a `select!` over a prefilled channel and an empty one, in a loop (for
//! `perf record`, or `valgrind --tool=callgrind` to count instructions); with `recv` as the
//! second argument, the same loop with a plain `recv` instead.
//! `cargo run --release -p may-bench --bin select_profile [count] [recv]`
fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let plain_recv = args.next().as_deref() == Some("recv");
    let (tx, rx) = may::sync::mpmc::unbounded::<usize>();
    let (_tx2, rx2) = may::sync::mpmc::unbounded::<usize>();
    for i in 0..n {
        tx.send(i).expect("receiver alive");
    }
    let start = std::time::Instant::now();
    let sum = may::coroutine::spawn(move || {
        let mut sum = 0usize;
        for _ in 0..n {
            sum += if plain_recv {
                rx.recv().expect("prefilled")
            } else {
                may::select! {
                    recv(rx) -> m => m.expect("prefilled"),
                    recv(rx2) -> m => m.expect("never closed"),
                }
            };
        }
        sum
    })
    .join()
    .expect("selector");
    println!(
        "{:.1} ns per {} (sum {sum})",
        start.elapsed().as_nanos() as f64 / n as f64,
        if plain_recv { "recv" } else { "select!" }
    );
}
