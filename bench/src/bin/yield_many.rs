//! `yield_now` among 1,000 coroutines (tokio tasks), on 1 worker and on 2, each in a fresh
//! child process: the cost of a switch when the next task's state is not in cache, and whether
//! a second worker speeds it up.
//!
//! `cargo run --release -p may-bench --bin yield_many`

use std::process::Command;
use std::time::Instant;

use may_bench::median;

const TASKS: usize = 1_000;
const YIELDS: usize = 2_000;
const ROUNDS: usize = 5;

fn run_may(workers: usize) -> f64 {
    may::config().set_workers(workers);
    let t = median(ROUNDS, || {
        let hs: Vec<_> = (0..TASKS)
            .map(|_| {
                may::coroutine::spawn(|| {
                    for _ in 0..YIELDS {
                        may::coroutine::yield_now();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().expect("yielder");
        }
    });
    t.as_nanos() as f64 / (TASKS * YIELDS) as f64
}

fn run_tokio(workers: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("tokio runtime");
    let t = median(ROUNDS, || {
        rt.block_on(async {
            let hs: Vec<_> = (0..TASKS)
                .map(|_| {
                    tokio::spawn(async {
                        for _ in 0..YIELDS {
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in hs {
                h.await.expect("yielder");
            }
        });
    });
    t.as_nanos() as f64 / (TASKS * YIELDS) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [which, workers] = &args[..] {
        let workers = workers.parse().expect("worker count");
        let ns = match which.as_str() {
            "may" => run_may(workers),
            "tokio" => run_tokio(workers),
            other => panic!("unknown runtime {other}"),
        };
        println!("{ns:.1}");
        return;
    }
    let exe = std::env::current_exe().expect("current exe");
    let run = |which: &str, workers: usize| -> f64 {
        let out = Command::new(&exe)
            .args([which, &workers.to_string()])
            .output()
            .expect("child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("ns")
    };
    let started = Instant::now();
    let (may1, may2) = (run("may", 1), run("may", 2));
    let (tokio1, tokio2) = (run("tokio", 1), run("tokio", 2));
    println!("yield_now among {TASKS} tasks, ns per yield (median of {ROUNDS}):");
    println!("| workers | may | tokio | may/tokio |");
    println!("|---|---|---|---|");
    println!("| 1 | {may1:.1} | {tokio1:.1} | {:.2}x |", may1 / tokio1);
    println!("| 2 | {may2:.1} | {tokio2:.1} | {:.2}x |", may2 / tokio2);
    println!(
        "| speed-up 1 -> 2 | {:.2}x | {:.2}x | |",
        may1 / may2,
        tokio1 / tokio2
    );
    println!("({:.1} s)", started.elapsed().as_secs_f64());
}
