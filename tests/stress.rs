//! Release-mode stress tests (run by .ci/run with `cargo test --release --test stress`).
//! In debug builds they run with smaller counts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine;

const fn scaled(release: usize, debug: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

fn thread_id_number() -> u64 {
    // `ThreadId` has no stable integer accessor; its Debug form is unique per thread.
    let text = format!("{:?}", std::thread::current().id());
    text.bytes()
        .filter(u8::is_ascii_digit)
        .fold(0, |n, b| n * 10 + u64::from(b - b'0'))
}

/// A started coroutine never migrates: it stays on the worker that started it across 10,000
/// yields while other coroutines keep every worker busy and spawn new work to be stolen.
#[test]
fn started_coroutine_keeps_its_worker_under_load() {
    let yields = scaled(10_000, 2_000);
    let stop = Arc::new(AtomicBool::new(false));
    let churn = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..64)
        .map(|_| {
            let stop = stop.clone();
            let churn = churn.clone();
            coroutine::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let churn = churn.clone();
                    coroutine::spawn(move || churn.fetch_add(1, Ordering::Relaxed));
                    coroutine::yield_now();
                }
            })
        })
        .collect();
    let watched: Vec<_> = (0..8)
        .map(|_| {
            coroutine::spawn(move || {
                let home = thread_id_number();
                let mut moved = 0;
                for _ in 0..yields {
                    coroutine::yield_now();
                    if thread_id_number() != home {
                        moved += 1;
                    }
                }
                moved
            })
        })
        .collect();
    let moves: Vec<usize> = watched.into_iter().map(|h| h.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    for h in load {
        h.join().unwrap();
    }
    assert_eq!(
        moves,
        vec![0; 8],
        "a started coroutine resumed on another thread"
    );
    assert!(
        churn.load(Ordering::Relaxed) > 0,
        "the load coroutines did not run"
    );
}
