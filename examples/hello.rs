//! Spawns 10,000 coroutines that sleep, joins them and prints what the runtime did.
//!
//! Run: `cargo run --release --example hello`

use std::time::{Duration, Instant};

use may::{coroutine, go};

#[may::main]
fn main() {
    let started = Instant::now();
    let handles: Vec<_> = (0..10_000u64)
        .map(|i| {
            go!(move || {
                coroutine::sleep(Duration::from_millis(i % 10));
                i
            })
        })
        .collect();
    let total: u64 = handles
        .into_iter()
        .map(|h| h.join().expect("no coroutine panics"))
        .sum();
    let metrics = may::runtime::metrics();
    println!(
        "10,000 coroutines slept and returned a sum of {total} in {:?} on {} workers",
        started.elapsed(),
        metrics.workers
    );
    assert_eq!(total, (0..10_000u64).sum());
}
