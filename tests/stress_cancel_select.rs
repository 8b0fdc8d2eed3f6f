//! Release-mode stress test (run by .ci/run with `cargo test --release --test
//! stress_cancel_select`); smaller counts in debug builds. `MAY_STRESS_ROUNDS` sets the number
//! of rounds (`.ci/run`'s valgrind job runs two: under valgrind a round takes 17 s).
//!
//! A storm of cancellations against coroutines blocked in a `select!` with a channel branch and
//! a general branch: every message sent is received by a branch body or left in the channel,
//! none is lost while `select!` joins its losing general branch.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use may::coroutine;
use may::sync::mpmc;

const fn scaled(release: usize, debug: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

/// A tiny deterministic generator, so that a failing round can be replayed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn cancellation_storm_loses_no_message() {
    let rounds = std::env::var("MAY_STRESS_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(scaled(20, 2));
    let consumers = scaled(10_000, 500);
    let messages = scaled(100_000, 5_000) as u64;
    for round in 0..rounds {
        let (tx, rx) = mpmc::unbounded::<u64>();
        let received = Arc::new(AtomicU64::new(0));
        let received_sum = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..consumers)
            .map(|_| {
                let (rx, received, received_sum) =
                    (rx.clone(), received.clone(), received_sum.clone());
                coroutine::spawn(move || loop {
                    may::select! {
                        recv(rx) -> msg => match msg {
                            Ok(v) => {
                                received.fetch_add(1, Relaxed);
                                received_sum.fetch_add(v, Relaxed);
                            }
                            Err(_) => break,
                        },
                        _ = coroutine::sleep(Duration::from_secs(3600)) => {
                            unreachable!("the general branch sleeps for an hour")
                        }
                    }
                })
            })
            .collect();
        // Interleave sends and cancellations in a shuffled order.
        let mut order: Vec<usize> = (0..consumers).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15 ^ round as u64;
        for i in (1..order.len()).rev() {
            order.swap(i, (next(&mut seed) % (i as u64 + 1)) as usize);
        }
        let per_cancel = messages / consumers as u64;
        let mut sent = 0u64;
        for &victim in &order {
            for _ in 0..per_cancel {
                sent += 1;
                tx.send(sent).unwrap();
            }
            handles[victim].coroutine().cancel();
        }
        let mut cancelled = 0;
        for h in handles {
            match h.join() {
                Err(e) if e.is_cancelled() => cancelled += 1,
                Err(e) => panic!("a consumer failed: {e}"),
                Ok(()) => {}
            }
        }
        let mut left = 0u64;
        let mut left_sum = 0u64;
        while let Ok(v) = rx.try_recv() {
            left += 1;
            left_sum += v;
        }
        assert_eq!(
            cancelled, consumers,
            "round {round}: every consumer was cancelled"
        );
        assert_eq!(
            received.load(Relaxed) + left,
            sent,
            "round {round}: messages lost"
        );
        assert_eq!(
            received_sum.load(Relaxed) + left_sum,
            sent * (sent + 1) / 2,
            "round {round}: sums differ"
        );
    }
}
