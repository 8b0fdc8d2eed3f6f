//! Release-mode channel stress (run with `cargo test --release -p may --test stress_chan`):
//! 8 producers x 8 consumers moving 1,000,000 messages per capacity (0, 1, 64, unbounded);
//! every value is received exactly once and each consumer sees each producer's values in
//! order. Debug builds move 40,000 messages per capacity.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use may::coroutine;
use may::select::Select;
use may::sync::mpmc;

const PRODUCERS: usize = 8;
const CONSUMERS: usize = 8;

const fn scaled(release: usize, debug: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

fn run(cap: Option<usize>, total: usize) {
    let per = total / PRODUCERS;
    let (tx, rx) = match cap {
        None => mpmc::unbounded::<(usize, usize)>(),
        Some(c) => mpmc::bounded(c),
    };
    let seen: Arc<Vec<AtomicU8>> =
        Arc::new((0..per * PRODUCERS).map(|_| AtomicU8::new(0)).collect());
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            coroutine::spawn(move || (0..per).for_each(|i| tx.send((p, i)).unwrap()))
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (rx, seen) = (rx.clone(), seen.clone());
            coroutine::spawn(move || {
                let mut last = [None::<usize>; PRODUCERS];
                let mut count = 0usize;
                for (p, i) in rx.iter() {
                    assert!(last[p].is_none_or(|l| l < i), "producer {p} out of order");
                    last[p] = Some(i);
                    assert_eq!(
                        seen[p * per + i].fetch_add(1, Ordering::Relaxed),
                        0,
                        "duplicate"
                    );
                    count += 1;
                }
                count
            })
        })
        .collect();
    drop((tx, rx));
    producers.into_iter().for_each(|h| h.join().unwrap());
    let received: usize = consumers.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(received, per * PRODUCERS, "cap {cap:?}");
    assert!(
        seen.iter().all(|s| s.load(Ordering::Relaxed) == 1),
        "cap {cap:?}: lost"
    );
}

#[test]
fn eight_by_eight_rendezvous() {
    run(Some(0), scaled(1_000_000, 40_000));
}

#[test]
fn eight_by_eight_capacity_one() {
    run(Some(1), scaled(1_000_000, 40_000));
}

#[test]
fn eight_by_eight_capacity_64() {
    run(Some(64), scaled(1_000_000, 40_000));
}

#[test]
fn eight_by_eight_unbounded() {
    run(None, scaled(1_000_000, 40_000));
}

/// Select senders and select receivers over a rendezvous and a buffered channel, with plain
/// senders and receivers on threads mixed in: everything arrives exactly once.
#[test]
fn select_against_plain_ops_mixed() {
    let per = scaled(100_000, 5_000);
    let (tx0, rx0) = mpmc::bounded::<usize>(0);
    let (tx1, rx1) = mpmc::bounded::<usize>(2);
    let mut handles = Vec::new();
    for p in 0..2 {
        let (tx0, tx1) = (tx0.clone(), tx1.clone());
        handles.push(coroutine::spawn(move || {
            for i in 0..per {
                let v = p * per + i;
                let mut sel = Select::new();
                sel.send(&tx0);
                sel.send(&tx1);
                let oper = sel.select();
                match oper.index() {
                    0 => oper.send(&tx0, v).unwrap(),
                    _ => oper.send(&tx1, v).unwrap(),
                }
            }
        }));
    }
    let plain = {
        let tx0 = tx0.clone();
        std::thread::spawn(move || (2 * per..3 * per).for_each(|v| tx0.send(v).unwrap()))
    };
    drop((tx0, tx1));
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..3 * per).map(|_| AtomicU8::new(0)).collect());
    let sel_rx = {
        let (rx0, rx1, seen) = (rx0.clone(), rx1.clone(), seen.clone());
        coroutine::spawn(move || {
            let rxs = [&rx0, &rx1];
            let mut open = [true, true];
            while open[0] || open[1] {
                let live: Vec<usize> = (0..2).filter(|&k| open[k]).collect();
                let mut sel = Select::new();
                live.iter().for_each(|&k| {
                    sel.recv(rxs[k]);
                });
                let oper = sel.select();
                let k = live[oper.index()];
                match oper.recv(rxs[k]) {
                    Ok(v) => assert_eq!(seen[v].fetch_add(1, Ordering::Relaxed), 0),
                    Err(_) => open[k] = false,
                }
            }
        })
    };
    let plain_rx = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            for v in rx0.iter() {
                assert_eq!(seen[v].fetch_add(1, Ordering::Relaxed), 0);
            }
            drop(rx1);
        })
    };
    handles.into_iter().for_each(|h| h.join().unwrap());
    plain.join().unwrap();
    sel_rx.join().unwrap();
    plain_rx.join().unwrap();
    assert!(
        seen.iter().all(|s| s.load(Ordering::Relaxed) == 1),
        "lost a message"
    );
}
