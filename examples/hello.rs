//! Spawns coroutines from a coroutine, joins them and prints what the runtime did.

use std::time::{Duration, Instant};

use may::coroutine;

fn main() {
    let started = Instant::now();
    let total = coroutine::spawn(|| {
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                coroutine::spawn(move || {
                    coroutine::sleep(Duration::from_millis(i % 10));
                    i
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no coroutine panics"))
            .sum::<u64>()
    })
    .join()
    .expect("the parent coroutine does not panic");
    let metrics = may::runtime::metrics();
    println!(
        "10,000 coroutines slept and returned a sum of {total} in {:?} on {} workers",
        started.elapsed(),
        metrics.workers
    );
    assert_eq!(total, (0..10_000u64).sum());
}
