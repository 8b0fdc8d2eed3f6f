//! `may::sync::Mutex` against `std::sync::Mutex`, in the same run:
//! - uncontended lock+unlock on a plain thread and inside a coroutine (the may side) against
//!   std's mutex on a plain thread;
//! - contended increments: 4 coroutines on `workers()` workers sharing a may mutex against 4 std
//!   threads on a std mutex doing the same number of increments, and 4 threads on the may mutex.
//!
//! `cargo run --release -p may-bench --bin mutex`

use std::hint::black_box;
use std::sync::Arc;

use may::coroutine;
use may_bench::{median, per_op, report, workers};

const UNCONTENDED: usize = 10_000_000;
const CONTENDED_PER_TASK: usize = 250_000;
const TASKS: usize = 4;
const ROUNDS: usize = 7;

fn may_uncontended() {
    let m = may::sync::Mutex::new(0u64);
    for _ in 0..UNCONTENDED {
        *black_box(&m).lock().unwrap() += 1;
    }
    assert_eq!(*m.lock().unwrap(), UNCONTENDED as u64);
}

fn std_uncontended() {
    let m = std::sync::Mutex::new(0u64);
    for _ in 0..UNCONTENDED {
        *black_box(&m).lock().unwrap() += 1;
    }
    assert_eq!(*m.lock().unwrap(), UNCONTENDED as u64);
}

fn may_contended_coroutines() {
    let m = Arc::new(may::sync::Mutex::new(0usize));
    let hs: Vec<_> = (0..TASKS)
        .map(|_| {
            let m = m.clone();
            coroutine::spawn(move || {
                for _ in 0..CONTENDED_PER_TASK {
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(*m.lock().unwrap(), TASKS * CONTENDED_PER_TASK);
}

fn may_contended_threads() {
    let m = Arc::new(may::sync::Mutex::new(0usize));
    let hs: Vec<_> = (0..TASKS)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                for _ in 0..CONTENDED_PER_TASK {
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(*m.lock().unwrap(), TASKS * CONTENDED_PER_TASK);
}

fn std_contended_threads() {
    let m = Arc::new(std::sync::Mutex::new(0usize));
    let hs: Vec<_> = (0..TASKS)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                for _ in 0..CONTENDED_PER_TASK {
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(*m.lock().unwrap(), TASKS * CONTENDED_PER_TASK);
}

fn main() {
    may::config().set_workers(workers());
    println!(
        "# mutex: may::sync::Mutex vs std::sync::Mutex, {} workers",
        workers()
    );
    println!("| case | may | peer | ratio |");
    println!("|---|---|---|---|");

    let std_thread = per_op(median(ROUNDS, std_uncontended), UNCONTENDED);
    let may_thread = per_op(median(ROUNDS, may_uncontended), UNCONTENDED);
    report(
        "uncontended lock+unlock, thread",
        "std thread",
        may_thread,
        std_thread,
    );
    let may_co = coroutine::spawn(|| per_op(median(ROUNDS, may_uncontended), UNCONTENDED))
        .join()
        .unwrap_or(f64::NAN);
    report(
        "uncontended lock+unlock, coroutine",
        "std thread",
        may_co,
        std_thread,
    );

    let ops = TASKS * CONTENDED_PER_TASK;
    let std_c = per_op(median(ROUNDS, std_contended_threads), ops);
    let may_co_c = per_op(median(ROUNDS, may_contended_coroutines), ops);
    let may_th_c = per_op(median(ROUNDS, may_contended_threads), ops);
    report("contended 4 coroutines", "std 4 threads", may_co_c, std_c);
    report("contended 4 threads", "std 4 threads", may_th_c, std_c);
}
