//! Profiling driver: one-at-a-time spawn+join in a loop (for `perf record`).
//!
//! `cargo run --release -p may-bench --bin spawn_profile [count]`
fn main() {
    may::config().set_workers(may_bench::workers());
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let start = std::time::Instant::now();
    may_bench::spawn_join_one_at_a_time(n);
    println!(
        "{:.1} ns per spawn+join",
        start.elapsed().as_nanos() as f64 / n as f64
    );
}
