//! may's channels against tokio, crossbeam-channel and itself, in the same run:
//! - ping-pong between two coroutines over two `mpmc::bounded(1)` channels against the same
//!   between two tokio tasks over `tokio::sync::mpsc::channel(1)` (both on `workers()` workers);
//! - the same ping-pong sorted by where the two coroutines run (one worker or two), over many
//!   trials, and the floor of a cross-worker hand-off: a cache line's round trip between two
//!   threads;
//! - 4 producers / 4 consumers on `mpmc::bounded(64)` with coroutines against
//!   `crossbeam_channel::bounded(64)` with threads;
//!
//! Selection against a receive is measured by `--bin select`.
//!
//! `cargo run --release -p may-bench --bin channel`

use may::coroutine;
use may::sync::mpmc;
use may_bench::{median, per_op, report, workers};

const PING_PONGS: usize = 200_000;
const MPMC_MSGS: usize = 2_000_000;
const ROUNDS: usize = 5;

fn may_ping_pong() {
    placed_ping_pong(PING_PONGS);
}

/// The runtime's floor for the same exchange: two coroutines handing a turn back and forth with
/// `park`/`unpark` and an atomic, no channel.
fn may_park_ping_pong() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let turn = Arc::new(AtomicUsize::new(0));
    let (htx, hrx) = mpmc::bounded::<coroutine::Coroutine>(1);
    let t = turn.clone();
    let pong = coroutine::spawn(move || {
        let ping = hrx.recv().unwrap();
        for _ in 0..PING_PONGS {
            while t.load(Ordering::Acquire) != 1 {
                coroutine::park();
            }
            t.store(0, Ordering::Release);
            ping.unpark();
        }
    });
    let pong_co = pong.coroutine().clone();
    coroutine::spawn(move || {
        htx.send(coroutine::current()).unwrap();
        for _ in 0..PING_PONGS {
            turn.store(1, Ordering::Release);
            pong_co.unpark();
            while turn.load(Ordering::Acquire) != 0 {
                coroutine::park();
            }
        }
    })
    .join()
    .unwrap();
    pong.join().unwrap();
}

/// Trials of [`placed_ping_pong`] and round trips in each.
const PLACED_TRIALS: usize = 24;
const PLACED_ROUND_TRIPS: usize = 50_000;

/// The worker thread the caller runs on.
fn worker_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

/// One ping-pong of `round_trips` over `mpmc::bounded(1)` channels (after one untimed round
/// trip); returns the time per round trip and whether the two coroutines ran on the same
/// worker. Where they start is up to the scheduler (a
/// started coroutine never moves), so the benchmark runs many trials and sorts them.
fn placed_ping_pong(round_trips: usize) -> (f64, bool) {
    let (tx1, rx1) = mpmc::bounded::<usize>(1);
    let (tx2, rx2) = mpmc::bounded::<usize>(1);
    let pong = coroutine::spawn(move || {
        let me = worker_name();
        for v in rx1.iter() {
            tx2.send(v + 1).unwrap();
        }
        me
    });
    let ping = coroutine::spawn(move || {
        let me = worker_name();
        tx1.send(0).unwrap();
        assert_eq!(rx2.recv(), Ok(1));
        let start = std::time::Instant::now();
        for i in 1..=round_trips {
            tx1.send(i).unwrap();
            assert_eq!(rx2.recv(), Ok(i + 1));
        }
        (me, per_op(start.elapsed(), round_trips))
    });
    let (ping_worker, ns) = ping.join().unwrap();
    let pong_worker = pong.join().unwrap();
    (ns, ping_worker == pong_worker)
}

/// Two threads bouncing one atomic: a cache line's round trip between two cores, the floor of
/// any cross-worker hand-off.
fn cache_line_round_trip() -> f64 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const TRIPS: usize = 1_000_000;
    let turn = std::sync::Arc::new(AtomicUsize::new(0));
    let other = turn.clone();
    let peer = std::thread::spawn(move || {
        for i in 0..TRIPS {
            while other.load(Ordering::Acquire) != 2 * i + 1 {
                std::hint::spin_loop();
            }
            other.store(2 * i + 2, Ordering::Release);
        }
    });
    let start = std::time::Instant::now();
    for i in 0..TRIPS {
        turn.store(2 * i + 1, Ordering::Release);
        while turn.load(Ordering::Acquire) != 2 * i + 2 {
            std::hint::spin_loop();
        }
    }
    let ns = per_op(start.elapsed(), TRIPS);
    peer.join().unwrap();
    ns
}

/// The median of `samples` (NaN when empty; callers check).
fn median_of(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

fn tokio_ping_pong(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let (tx1, mut rx1) = tokio::sync::mpsc::channel::<usize>(1);
        let (tx2, mut rx2) = tokio::sync::mpsc::channel::<usize>(1);
        let pong = tokio::spawn(async move {
            while let Some(v) = rx1.recv().await {
                tx2.send(v + 1).await.unwrap();
            }
        });
        tokio::spawn(async move {
            for i in 0..PING_PONGS {
                tx1.send(i).await.unwrap();
                assert_eq!(rx2.recv().await, Some(i + 1));
            }
        })
        .await
        .unwrap();
        pong.await.unwrap();
    });
}

fn may_mpmc() {
    let (tx, rx) = mpmc::bounded::<usize>(64);
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let tx = tx.clone();
            coroutine::spawn(move || (0..MPMC_MSGS / 4).for_each(|i| tx.send(i).unwrap()))
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            coroutine::spawn(move || rx.iter().count())
        })
        .collect();
    drop((tx, rx));
    producers.into_iter().for_each(|h| h.join().unwrap());
    let n: usize = consumers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(n, MPMC_MSGS);
}

fn crossbeam_mpmc() {
    let (tx, rx) = crossbeam_channel::bounded::<usize>(64);
    let producers: Vec<_> = (0..4)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || (0..MPMC_MSGS / 4).for_each(|i| tx.send(i).unwrap()))
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || rx.iter().count())
        })
        .collect();
    drop((tx, rx));
    producers.into_iter().for_each(|h| h.join().unwrap());
    let n: usize = consumers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(n, MPMC_MSGS);
}

fn main() {
    let workers = workers();
    may::config().set_workers(workers);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!("workers: {workers}");
    println!("| benchmark | may | peer | may/peer |");
    println!("|---|---|---|---|");

    let may = median(ROUNDS, may_ping_pong);
    let tokio = median(ROUNDS, || tokio_ping_pong(&rt));
    report(
        "ping-pong round trip, bounded(1)",
        "tokio mpsc",
        per_op(may, PING_PONGS),
        per_op(tokio, PING_PONGS),
    );

    let park = median(ROUNDS, may_park_ping_pong);
    report(
        "ping-pong channels vs park/unpark floor",
        "may park/unpark",
        per_op(may, PING_PONGS),
        per_op(park, PING_PONGS),
    );

    // Where the partners run decides the cost: one worker, or a cache-line hop per hand-off.
    let (mut same, mut apart) = (Vec::new(), Vec::new());
    for _ in 0..PLACED_TRIALS {
        match placed_ping_pong(PLACED_ROUND_TRIPS) {
            (ns, true) => same.push(ns),
            (ns, false) => apart.push(ns),
        }
    }
    let (same_n, apart_n) = (same.len(), apart.len());
    if same_n > 0 && apart_n > 0 {
        report(
            &format!("ping-pong on two workers ({apart_n} trials) vs on one ({same_n})"),
            "on one worker",
            median_of(apart),
            median_of(same),
        );
    } else {
        let (where_, ns) = if apart_n > 0 {
            ("two workers", median_of(apart))
        } else {
            ("one worker", median_of(same))
        };
        println!("| ping-pong, all {PLACED_TRIALS} trials on {where_} | {ns:.1} ns | - | - |");
    }
    let line = cache_line_round_trip();
    report(
        "cache-line round trip between two threads",
        "tokio mpsc ping-pong",
        line,
        per_op(tokio, PING_PONGS),
    );

    let may = median(ROUNDS, may_mpmc);
    let cb = median(ROUNDS, crossbeam_mpmc);
    report(
        "4p/4c bounded(64) per message (coroutines vs threads)",
        "crossbeam threads",
        per_op(may, MPMC_MSGS),
        per_op(cb, MPMC_MSGS),
    );
}
