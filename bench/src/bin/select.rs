//! Selection against a plain receive, in the same run: `select!` over 2 and over 8 channels of
//! which one holds messages, the dynamic `Select` over 2, and `recv` on the same prefilled
//! channel, all inside a coroutine; crossbeam-channel's `select!` and `recv` on a thread as the
//! peer. (Issue: "select! over 2 channels, one ready, at most 2x a recv".)
//!
//! `cargo run --release -p may-bench --bin select`

use std::time::{Duration, Instant};

use may::select::Select;
use may::sync::mpmc;
use may_bench::{per_op, report};

const MSGS: usize = 1_000_000;
const ROUNDS: usize = 7;

/// What a measurement receives with.
#[derive(Clone, Copy, PartialEq)]
enum Way {
    Recv,
    Macro2,
    Macro8,
    Dynamic2,
}

/// Receives `MSGS` prefilled messages in a coroutine `way`; returns the loop's time.
fn may_receive(way: Way) -> Duration {
    may::coroutine::spawn(move || {
        let (tx, rx) = mpmc::unbounded::<usize>();
        let idle: Vec<_> = (0..7).map(|_| mpmc::unbounded::<usize>()).collect();
        let i = |k: usize| &idle[k].1;
        (0..MSGS).for_each(|m| tx.send(m).expect("receiver alive"));
        let start = Instant::now();
        let mut sum = 0;
        for _ in 0..MSGS {
            sum += match way {
                Way::Recv => rx.recv().expect("prefilled"),
                Way::Macro2 => may::select! {
                    recv(i(0)) -> m => m.expect("idle"),
                    recv(rx) -> m => m.expect("prefilled"),
                },
                Way::Macro8 => may::select! {
                    recv(i(0)) -> m => m.expect("idle"),
                    recv(i(1)) -> m => m.expect("idle"),
                    recv(i(2)) -> m => m.expect("idle"),
                    recv(rx) -> m => m.expect("prefilled"),
                    recv(i(3)) -> m => m.expect("idle"),
                    recv(i(4)) -> m => m.expect("idle"),
                    recv(i(5)) -> m => m.expect("idle"),
                    recv(i(6)) -> m => m.expect("idle"),
                },
                Way::Dynamic2 => {
                    let mut sel = Select::new();
                    sel.recv(i(0));
                    let ready = sel.recv(&rx);
                    let oper = sel.select();
                    assert_eq!(oper.index(), ready);
                    oper.recv(&rx).expect("prefilled")
                }
            };
        }
        let took = start.elapsed();
        assert_eq!(sum, (0..MSGS).sum::<usize>());
        took
    })
    .join()
    .expect("receiver")
}

/// The same on a thread with crossbeam-channel: `select!` over 2 (`two`) or `recv`.
fn crossbeam_receive(two: bool) -> Duration {
    let (tx, rx) = crossbeam_channel::unbounded::<usize>();
    let (_idle_tx, idle) = crossbeam_channel::unbounded::<usize>();
    (0..MSGS).for_each(|m| tx.send(m).expect("receiver alive"));
    let start = Instant::now();
    let mut sum = 0;
    for _ in 0..MSGS {
        sum += if two {
            crossbeam_channel::select! {
                recv(idle) -> m => m.expect("idle"),
                recv(rx) -> m => m.expect("prefilled"),
            }
        } else {
            rx.recv().expect("prefilled")
        };
    }
    let took = start.elapsed();
    assert_eq!(sum, (0..MSGS).sum::<usize>());
    took
}

fn main() {
    may::config().set_workers(1);
    let ways = [Way::Recv, Way::Macro2, Way::Macro8, Way::Dynamic2];
    // Rounds interleave the ways, so that a noisy moment hits them all alike.
    let mut may_t: Vec<Vec<Duration>> = vec![Vec::new(); ways.len()];
    let mut cb_t: Vec<Vec<Duration>> = vec![Vec::new(); 2];
    for _ in 0..ROUNDS {
        for (k, &way) in ways.iter().enumerate() {
            may_t[k].push(may_receive(way));
        }
        cb_t[0].push(crossbeam_receive(false));
        cb_t[1].push(crossbeam_receive(true));
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        per_op(v[v.len() / 2], MSGS)
    };
    let may_ns: Vec<f64> = may_t.into_iter().map(median).collect();
    let cb_ns: Vec<f64> = cb_t.into_iter().map(median).collect();
    println!("one worker; medians of {ROUNDS} interleaved rounds");
    println!("| benchmark | may | peer | may/peer |");
    println!("|---|---|---|---|");
    report(
        "select! over 2, one ready",
        "may recv",
        may_ns[1],
        may_ns[0],
    );
    report(
        "select! over 8, one ready",
        "may recv",
        may_ns[2],
        may_ns[0],
    );
    report("Select over 2, one ready", "may recv", may_ns[3], may_ns[0]);
    report(
        "crossbeam select! over 2 (thread)",
        "crossbeam recv",
        cb_ns[1],
        cb_ns[0],
    );
    report(
        "select! over 2",
        "crossbeam select! (thread)",
        may_ns[1],
        cb_ns[1],
    );
    report("recv", "crossbeam recv (thread)", may_ns[0], cb_ns[0]);
}
