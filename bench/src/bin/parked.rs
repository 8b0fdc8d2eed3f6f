//! A million parked tasks, each blocked receiving from one shared channel: the time to create and
//! park each, the resident memory each holds while parked, and the time to wake, finish and join
//! each. may coroutines against tokio tasks (a semaphore, tokio's closest multi-consumer wait)
//! and Go goroutines (`bench/go/parked.go`, when `go` is installed), 2 workers each, every one in
//! a fresh child process, best of `PARKED_ROUNDS` (default 2) rounds in rotating order.
//!
//! `cargo run --release -p may-bench --bin parked [-- COUNT]`

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// One measurement: nanoseconds to create + park, resident bytes, nanoseconds to wake + join.
struct Sample {
    create_ns: f64,
    bytes: f64,
    wake_ns: f64,
}

impl Sample {
    fn print(&self) {
        println!(
            "{:.0} {:.0} {:.0}",
            self.create_ns, self.bytes, self.wake_ns
        );
    }

    fn parse(text: &str) -> Sample {
        let v: Vec<f64> = text
            .split_whitespace()
            .map(|x| x.parse().expect("number"))
            .collect();
        assert_eq!(v.len(), 3, "bad sample {text:?}");
        Sample {
            create_ns: v[0],
            bytes: v[1],
            wake_ns: v[2],
        }
    }
}

fn wait_for(count: &AtomicUsize, n: usize) {
    while count.load(Ordering::Acquire) < n {
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn run_may(n: usize) -> Sample {
    may::config().set_workers(2);
    may::coroutine::spawn(|| ()).join().expect("warm-up");
    let (tx, rx) = may::sync::mpmc::unbounded::<()>();
    let parked = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(n);
    let before = resident_bytes();
    let start = Instant::now();
    for _ in 0..n {
        let (rx, parked) = (rx.clone(), parked.clone());
        handles.push(may::coroutine::spawn(move || {
            parked.fetch_add(1, Ordering::Release);
            rx.recv().expect("woken by a message");
        }));
    }
    if std::env::var_os("PARKED_DEBUG").is_some() {
        eprintln!("spawn loop {:?}", start.elapsed());
    }
    wait_for(&parked, n);
    let create = start.elapsed();
    let bytes = resident_bytes().saturating_sub(before);
    if let Some(pause) = std::env::var("PARKED_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(Duration::from_millis(pause));
    }
    let start = Instant::now();
    for _ in 0..n {
        tx.send(()).expect("receivers alive");
    }
    if std::env::var_os("PARKED_DEBUG").is_some() {
        eprintln!("send loop {:?}", start.elapsed());
    }
    for h in handles {
        h.join().expect("parked coroutine");
    }
    let wake = start.elapsed();
    Sample {
        create_ns: create.as_nanos() as f64 / n as f64,
        bytes: bytes as f64 / n as f64,
        wake_ns: wake.as_nanos() as f64 / n as f64,
    }
}

fn run_tokio(n: usize) -> Sample {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        tokio::spawn(async {}).await.expect("warm-up");
        let gate = Arc::new(tokio::sync::Semaphore::new(0));
        let parked = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::with_capacity(n);
        let before = resident_bytes();
        let start = Instant::now();
        for _ in 0..n {
            let (gate, parked) = (gate.clone(), parked.clone());
            handles.push(tokio::spawn(async move {
                parked.fetch_add(1, Ordering::Release);
                gate.acquire().await.expect("open").forget();
            }));
        }
        while parked.load(Ordering::Acquire) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let create = start.elapsed();
        let bytes = resident_bytes().saturating_sub(before);
        let start = Instant::now();
        for _ in 0..n {
            gate.add_permits(1);
        }
        for h in handles {
            h.await.expect("parked task");
        }
        let wake = start.elapsed();
        Sample {
            create_ns: create.as_nanos() as f64 / n as f64,
            bytes: bytes as f64 / n as f64,
            wake_ns: wake.as_nanos() as f64 / n as f64,
        }
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if let Some(which @ ("may" | "tokio")) = first.as_deref() {
        let n = args.next().and_then(|v| v.parse().ok()).expect("count");
        let sample = if which == "may" {
            run_may(n)
        } else {
            run_tokio(n)
        };
        sample.print();
        return;
    }
    let n: usize = first.and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let exe = std::env::current_exe().expect("current exe");
    let child = |cmd: &mut Command| -> Option<Sample> {
        let out = cmd.output().ok()?;
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        Some(Sample::parse(&String::from_utf8_lossy(&out.stdout)))
    };
    let go_src = concat!(env!("CARGO_MANIFEST_DIR"), "/go/parked.go");
    let run = |which: usize| -> Option<Sample> {
        match which {
            0 => child(Command::new(&exe).args(["may", &n.to_string()])),
            1 => child(Command::new(&exe).args(["tokio", &n.to_string()])),
            _ => child(
                Command::new("go")
                    .args(["run", go_src, &n.to_string()])
                    .env("GOMAXPROCS", "2"),
            ),
        }
    };
    // Each runtime runs `PARKED_ROUNDS` times (default 2), the order rotating every round, and
    // keeps its best of each measure: on a VM the first run after an idle spell pays for the
    // host faulting in memory the guest had given back, whichever runtime it is.
    let rounds = std::env::var("PARKED_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2usize)
        .max(1);
    let mut best: [Option<Sample>; 3] = [None, None, None];
    for round in 0..rounds {
        for k in 0..3 {
            let which = (round + k) % 3;
            if let Some(s) = run(which) {
                best[which] = Some(match best[which].take() {
                    None => s,
                    Some(b) => Sample {
                        create_ns: b.create_ns.min(s.create_ns),
                        bytes: b.bytes.min(s.bytes),
                        wake_ns: b.wake_ns.min(s.wake_ns),
                    },
                });
            }
        }
    }
    let [may, tokio, go] = best;
    let may = may.expect("may run");
    let tokio = tokio.expect("tokio run");
    println!("{n} parked tasks, 2 workers, per task (best of {rounds} rounds):");
    println!("| | create + park | resident | wake + finish + join |");
    println!("|---|---|---|---|");
    let row = |name: &str, s: &Sample| {
        println!(
            "| {name} | {:.0} ns | {:.0} B | {:.0} ns |",
            s.create_ns, s.bytes, s.wake_ns
        );
    };
    row("may", &may);
    row("tokio", &tokio);
    if let Some(go) = &go {
        row("Go", go);
    } else {
        println!("| Go | skipped: `go` is not installed (apt-get install golang-go) | | |");
    }
    let ratio = |name: &str, peer: &Sample| {
        println!(
            "| may / {name} | {:.2}x | {:.2}x | {:.2}x |",
            may.create_ns / peer.create_ns,
            may.bytes / peer.bytes,
            may.wake_ns / peer.wake_ns
        );
    };
    ratio("tokio", &tokio);
    if let Some(go) = &go {
        ratio("Go", go);
    }
}
