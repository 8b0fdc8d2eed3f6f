//! The cost of `runtime::dump()`: 100,000 parked coroutines (half on a channel receive, half
//! asleep) listed and grouped, timed; and spawn+join and ping-pong while another thread dumps in
//! a loop against the same work with nobody dumping. (The cost of the dump's bookkeeping when
//! nobody dumps is measured against the commit before it: `scripts/bench_dump_cost.sh`.)
//!
//! `cargo run --release -p may-bench --bin dump [coroutines]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use may::runtime::{self, CoroutineState, WaitReason};
use may::sync::mpmc;
use may_bench::{median, per_op, spawn_join_one_at_a_time, workers};

const ROUNDS: usize = 5;
const SPAWNS: usize = 50_000;
const TRIPS: usize = 50_000;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    may::config()
        .set_workers(workers())
        .set_stack_size(16 * 1024);

    let (tx, rx) = mpmc::unbounded::<()>();
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let rx = rx.clone();
            may::coroutine::spawn(move || {
                if i % 2 == 0 {
                    let _ = rx.recv();
                } else {
                    may::coroutine::sleep(Duration::from_secs(3600));
                }
            })
        })
        .collect();
    while runtime::metrics().queued > 0 || waiting(&runtime::dump()) < n {
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut infos = Vec::new();
    let dump_t = median(ROUNDS, || infos = runtime::dump());
    let mut text = String::new();
    let format_t = median(ROUNDS, || text = runtime::format_dump(&infos));
    let recv = count(&infos, WaitReason::ChannelRecv);
    let sleep = count(&infos, WaitReason::Sleep);
    assert_eq!((recv, sleep), (n / 2 + n % 2, n / 2), "grouped counts");
    println!("parked coroutines: {n} ({recv} on a channel receive, {sleep} asleep)");
    println!(
        "dump(): {:.1} ms, format_dump(): {:.1} ms, together {:.1} ms ({} lines of text)",
        ms(dump_t),
        ms(format_t),
        ms(dump_t + format_t),
        text.lines().count()
    );

    // The same spawn+join and ping-pong with nobody dumping, then with a thread dumping
    // continuously (each dump walks the 100,000 parked coroutines).
    for dumping in [false, true] {
        let stop = Arc::new(AtomicBool::new(false));
        let dumper = dumping.then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut dumps = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    std::hint::black_box(runtime::dump());
                    dumps += 1;
                }
                dumps
            })
        });
        let spawn_t = median(ROUNDS, || spawn_join_one_at_a_time(SPAWNS));
        let pong_t = median(ROUNDS, ping_pong);
        stop.store(true, Ordering::Relaxed);
        let dumps = dumper.map(|d| d.join().expect("dumper"));
        println!(
            "{}: spawn+join {:.0} ns, ping-pong round trip {:.0} ns{}",
            if dumping {
                "while a thread dumps"
            } else {
                "nobody dumping"
            },
            per_op(spawn_t, SPAWNS),
            per_op(pong_t, TRIPS),
            dumps.map_or_else(String::new, |d| format!(" ({d} dumps meanwhile)"))
        );
    }

    drop(tx);
    for h in &handles {
        h.coroutine().cancel();
    }
    for h in handles {
        let _ = h.join();
    }
}

fn waiting(infos: &[runtime::CoroutineInfo]) -> usize {
    infos
        .iter()
        .filter(|c| matches!(c.state, CoroutineState::Waiting { .. }))
        .count()
}

fn count(infos: &[runtime::CoroutineInfo], reason: WaitReason) -> usize {
    infos
        .iter()
        .filter(|c| matches!(c.state, CoroutineState::Waiting { on, .. } if on == reason))
        .count()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ping_pong() {
    let (ping_tx, ping_rx) = mpmc::bounded::<usize>(1);
    let (pong_tx, pong_rx) = mpmc::bounded::<usize>(1);
    let echo = may::coroutine::spawn(move || {
        while let Ok(v) = ping_rx.recv() {
            let _ = pong_tx.send(v);
        }
    });
    may::coroutine::spawn(move || {
        for i in 0..TRIPS {
            ping_tx.send(i).expect("echo alive");
            assert_eq!(pong_rx.recv().expect("echo alive"), i);
        }
    })
    .join()
    .expect("driver");
    echo.join().expect("echo");
}
