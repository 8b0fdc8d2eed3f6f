//! Profiling driver: one-at-a-time spawn+join in a loop (for `perf record`).
//!
//! `cargo run --release -p may-bench --bin spawn_profile`
fn main() {
    may::config().set_workers(may_bench::workers());
    let n = 2_000_000;
    let start = std::time::Instant::now();
    may::coroutine::spawn(move || {
        for _ in 0..n {
            may::coroutine::spawn(|| ())
                .join()
                .expect("empty coroutine");
        }
    })
    .join()
    .expect("driver");
    println!(
        "{:.1} ns per spawn+join",
        start.elapsed().as_nanos() as f64 / n as f64
    );
}
