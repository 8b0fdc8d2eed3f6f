//! Resident memory per idle coroutine (may, default 32 KiB and 4 KiB stacks) and per idle task
//! (tokio), measured over 30,000 of each parked on an event, each in a fresh child process so
//! that one measurement's freed memory does not hide the next one's.
//!
//! `cargo run --release -p may-bench --bin memory`

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const COUNT: usize = 30_000;

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    pages * 4096
}

fn measure_may(stack: usize) -> f64 {
    may::config()
        .set_workers(2)
        .set_stack_size(stack)
        .set_pool_capacity(0);
    // Warm the runtime up so that its own allocations are in the baseline.
    may::coroutine::spawn(|| ()).join().expect("warm-up");
    let before = resident_bytes();
    let parked = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..COUNT)
        .map(|_| {
            let parked = parked.clone();
            may::coroutine::spawn(move || {
                parked.fetch_add(1, Ordering::SeqCst);
                may::coroutine::park();
            })
        })
        .collect();
    while parked.load(Ordering::SeqCst) < COUNT {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let after = resident_bytes();
    for h in &handles {
        h.coroutine().unpark();
    }
    for h in handles {
        h.join().expect("parked coroutine");
    }
    (after - before) as f64 / COUNT as f64
}

fn measure_tokio() -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        tokio::spawn(async {}).await.expect("warm-up");
        let before = resident_bytes();
        let gate = Arc::new(tokio::sync::Notify::new());
        let parked = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..COUNT)
            .map(|_| {
                let gate = gate.clone();
                let parked = parked.clone();
                tokio::spawn(async move {
                    let notified = gate.notified();
                    parked.fetch_add(1, Ordering::SeqCst);
                    notified.await;
                })
            })
            .collect();
        while parked.load(Ordering::SeqCst) < COUNT {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let after = resident_bytes();
        gate.notify_waiters();
        for h in handles {
            h.await.expect("parked task");
        }
        (after - before) as f64 / COUNT as f64
    })
}

fn main() {
    if let Some(which) = std::env::args().nth(1) {
        let per = match which.as_str() {
            "may32" => measure_may(32 * 1024),
            "may4" => measure_may(4 * 1024),
            "tokio" => measure_tokio(),
            other => panic!("unknown measurement {other}"),
        };
        println!("{per:.0}");
        return;
    }
    let exe = std::env::current_exe().expect("current exe");
    let run = |which: &str| -> f64 {
        let out = Command::new(&exe).arg(which).output().expect("child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("bytes")
    };
    let may32 = run("may32");
    let may4 = run("may4");
    let tokio = run("tokio");
    println!("idle memory over {COUNT} (resident bytes each):");
    println!("| what | bytes | KiB | vs tokio |");
    println!("|---|---|---|---|");
    for (name, v) in [
        ("may, 32 KiB stack", may32),
        ("may, 4 KiB stack", may4),
        ("tokio task", tokio),
    ] {
        println!(
            "| {name} | {v:.0} | {:.2} | {:.1}x |",
            v / 1024.0,
            v / tokio
        );
    }
    let gib = (1u64 << 30) as f64;
    println!(
        "coroutines alive in 1 GiB: may 32 KiB: {:.0}, may 4 KiB: {:.0}, tokio tasks: {:.0}",
        gib / may32,
        gib / may4,
        gib / tokio
    );
}
