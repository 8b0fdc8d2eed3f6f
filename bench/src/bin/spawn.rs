//! Spawn+join and yield, may vs tokio, same worker count, same run.
//!
//! `cargo run --release -p may-bench --bin spawn`

use std::time::Instant;

use may_bench::{median, per_op, report, spawn_join_one_at_a_time, workers};

const SPAWNS: usize = 100_000;
const YIELDS: usize = 1_000_000;
const ROUNDS: usize = 7;

fn main() {
    let workers = workers();
    may::config().set_workers(workers);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!("workers: {workers}");
    println!("| benchmark | may | peer | may/peer |");
    println!("|---|---|---|---|");

    // One at a time: spawn an empty coroutine and wait for it, from inside a coroutine.
    let may_t = median(ROUNDS, || spawn_join_one_at_a_time(SPAWNS));
    let tokio_t = median(ROUNDS, || {
        tokio.block_on(async {
            tokio::spawn(async {
                for _ in 0..SPAWNS {
                    tokio::spawn(async {}).await.expect("empty task");
                }
            })
            .await
            .expect("driver");
        });
    });
    report(
        "spawn+join, one at a time",
        "tokio spawn+await",
        per_op(may_t, SPAWNS),
        per_op(tokio_t, SPAWNS),
    );

    // In bulk: spawn 1,000, then join them all (work spreads to every worker).
    let batch = 1_000;
    let may_t = median(ROUNDS, || {
        may::coroutine::spawn(move || {
            for _ in 0..SPAWNS / batch {
                let hs: Vec<_> = (0..batch).map(|_| may::coroutine::spawn(|| ())).collect();
                for h in hs {
                    h.join().expect("empty coroutine");
                }
            }
        })
        .join()
        .expect("driver");
    });
    let tokio_t = median(ROUNDS, || {
        tokio.block_on(async move {
            tokio::spawn(async move {
                for _ in 0..SPAWNS / batch {
                    let hs: Vec<_> = (0..batch).map(|_| tokio::spawn(async {})).collect();
                    for h in hs {
                        h.await.expect("empty task");
                    }
                }
            })
            .await
            .expect("driver");
        });
    });
    report(
        "spawn 1,000 then join all",
        "tokio",
        per_op(may_t, SPAWNS),
        per_op(tokio_t, SPAWNS),
    );

    // A burst: spawn 200,000, then join them all.
    let burst = 200_000;
    let may_t = median(ROUNDS, || {
        may::coroutine::spawn(move || {
            let hs: Vec<_> = (0..burst).map(|_| may::coroutine::spawn(|| ())).collect();
            for h in hs {
                h.join().expect("empty coroutine");
            }
        })
        .join()
        .expect("driver");
    });
    let tokio_t = median(ROUNDS, || {
        tokio.block_on(async move {
            tokio::spawn(async move {
                let hs: Vec<_> = (0..burst).map(|_| tokio::spawn(async {})).collect();
                for h in hs {
                    h.await.expect("empty task");
                }
            })
            .await
            .expect("driver");
        });
    });
    report(
        "spawn 200,000 then join all",
        "tokio",
        per_op(may_t, burst),
        per_op(tokio_t, burst),
    );

    // yield_now round trips of one coroutine / task.
    let may_t = median(ROUNDS, || {
        may::coroutine::spawn(|| {
            for _ in 0..YIELDS {
                may::coroutine::yield_now();
            }
        })
        .join()
        .expect("yielder");
    });
    let tokio_t = median(ROUNDS, || {
        tokio.block_on(async {
            tokio::spawn(async {
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                }
            })
            .await
            .expect("yielder");
        });
    });
    report(
        "yield_now",
        "tokio yield_now().await",
        per_op(may_t, YIELDS),
        per_op(tokio_t, YIELDS),
    );

    let started = Instant::now();
    let handle = may::coroutine::spawn(|| ());
    handle.join().expect("empty coroutine");
    println!(
        "(first spawn from a plain thread after warm-up: {:?})",
        started.elapsed()
    );
}
