//! Helpers shared by the comparison programs in `src/bin/`: each program runs the same work on
//! may and on a peer (tokio, std, crossbeam) in one process run and prints the ratio.

use std::time::{Duration, Instant};

/// Runs `f` `rounds` times (after one warm-up run) and returns the median duration.
pub fn median<F: FnMut()>(rounds: usize, mut f: F) -> Duration {
    f();
    let mut samples: Vec<Duration> = (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

/// Nanoseconds per operation.
pub fn per_op(total: Duration, ops: usize) -> f64 {
    total.as_nanos() as f64 / ops.max(1) as f64
}

/// Prints one result row: `name | may ns/op | peer ns/op | may/peer ratio`.
pub fn report(name: &str, peer: &str, may_ns: f64, peer_ns: f64) {
    println!(
        "| {name} | {may_ns:.1} ns | {peer}: {peer_ns:.1} ns | {:.2}x |",
        may_ns / peer_ns
    );
}

/// Worker count used by every comparison: `MAY_BENCH_WORKERS` or 2.
pub fn workers() -> usize {
    std::env::var("MAY_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

/// From inside a coroutine, spawns `n` empty coroutines one at a time, joining each before the
/// next.
pub fn spawn_join_one_at_a_time(n: usize) {
    may::coroutine::spawn(move || {
        for _ in 0..n {
            may::coroutine::spawn(|| ())
                .join()
                .expect("empty coroutine");
        }
    })
    .join()
    .expect("driver");
}
