//! `may::select::Select`: the crossbeam-channel `Select` API over mpmc channels and timers,
//! from coroutines and threads. Fairness and the loop regression (may issue #102) follow the
//! selection issue; the rest ports crossbeam-channel's `tests/select.rs` behaviour.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::select::{Select, SelectTimeoutError, TrySelectError};
use may::sync::mpmc::{self, RecvError, SendError};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn selects_the_ready_receive() {
    let (tx1, rx1) = mpmc::unbounded::<i32>();
    let (_tx2, rx2) = mpmc::unbounded::<i32>();
    tx1.send(1).unwrap();
    let mut sel = Select::new();
    let a = sel.recv(&rx1);
    let b = sel.recv(&rx2);
    assert_eq!((a, b), (0, 1));
    let oper = sel.select();
    assert_eq!(oper.index(), a);
    assert_eq!(oper.recv(&rx1), Ok(1));
    assert!(matches!(sel.try_select(), Err(TrySelectError)));
}

#[test]
fn blocks_until_a_peer_arrives_every_capacity() {
    for cap in [None, Some(0), Some(1)] {
        let mk = || match cap {
            None => mpmc::unbounded::<u32>(),
            Some(c) => mpmc::bounded(c),
        };
        let (tx1, rx1) = mk();
        let (tx2, rx2) = mk();
        let h = coroutine::spawn(move || tx2.send(42));
        let mut sel = Select::new();
        let a = sel.recv(&rx1);
        let b = sel.recv(&rx2);
        let oper = sel.select();
        assert_eq!(oper.index(), b, "cap {cap:?}");
        assert_eq!(oper.recv(&rx2), Ok(42));
        assert_eq!(h.join().unwrap(), Ok(()));
        let _ = (a, tx1, rx1);
    }
}

#[test]
fn send_operations_and_rendezvous_between_two_selects() {
    let (tx, rx) = mpmc::bounded::<u32>(0);
    let rx2 = rx.clone();
    let receiver = coroutine::spawn(move || {
        let mut sel = Select::new();
        let i = sel.recv(&rx2);
        let oper = sel.select();
        assert_eq!(oper.index(), i);
        oper.recv(&rx2)
    });
    let mut sel = Select::new();
    let (_never_tx, never_rx) = mpmc::bounded::<u32>(0);
    let s = sel.send(&tx);
    sel.recv(&never_rx);
    let oper = sel.select();
    assert_eq!(oper.index(), s);
    oper.send(&tx, 5).unwrap();
    assert_eq!(receiver.join().unwrap(), Ok(5));
}

#[test]
fn disconnected_is_ready() {
    let (tx, rx) = mpmc::unbounded::<u8>();
    drop(tx);
    let mut sel = Select::new();
    sel.recv(&rx);
    let oper = sel.select_timeout(ms(1_000)).unwrap();
    assert_eq!(oper.recv(&rx), Err(RecvError));

    let (tx, rx) = mpmc::bounded::<u8>(0);
    let h = coroutine::spawn(move || {
        let mut sel = Select::new();
        sel.send(&tx);
        let oper = sel.select();
        oper.send(&tx, 3)
    });
    drop(rx);
    assert_eq!(h.join().unwrap(), Err(SendError(3)));
}

#[test]
fn timeouts_and_timers() {
    let (_tx, rx) = mpmc::unbounded::<u8>();
    let mut sel = Select::new();
    sel.recv(&rx);
    let start = Instant::now();
    assert!(matches!(
        sel.select_timeout(ms(30)),
        Err(SelectTimeoutError)
    ));
    assert!(start.elapsed() >= ms(30));
    assert!(sel.ready_timeout(ms(5)).is_err());

    let timer = mpmc::after(ms(20));
    let mut sel = Select::new();
    sel.recv(&rx);
    let t = sel.recv(&timer);
    let start = Instant::now();
    let oper = sel.select();
    assert_eq!(oper.index(), t);
    let fired = oper.recv(&timer).unwrap();
    assert!(fired >= start + ms(19) && start.elapsed() >= ms(19));

    let never = mpmc::never::<u8>();
    let mut sel = Select::new();
    sel.recv(&never);
    assert!(sel.select_timeout(ms(10)).is_err());
}

#[test]
fn ready_does_not_consume() {
    let (tx, rx) = mpmc::bounded::<u8>(0);
    let h = std::thread::spawn(move || tx.send(1));
    let mut sel = Select::new();
    let i = sel.recv(&rx);
    assert_eq!(sel.ready(), i);
    // The message is still there for the receive (a rendezvous message the ready() round
    // was handed back stays in the channel).
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(h.join().unwrap(), Ok(()));

    let (tx, rx) = mpmc::bounded::<u8>(4);
    tx.send(9).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    assert_eq!(sel.try_ready(), Ok(0));
    assert_eq!(rx.len(), 1);
    assert_eq!(rx.try_recv(), Ok(9));
}

/// Each of two ready branches wins within 10 standard deviations of half of 10,000 trials.
#[test]
fn fairness_between_two_ready_branches() {
    const TRIALS: usize = 10_000;
    let (tx1, rx1) = mpmc::unbounded::<()>();
    let (tx2, rx2) = mpmc::unbounded::<()>();
    let mut wins = [0usize; 2];
    for _ in 0..TRIALS {
        tx1.send(()).unwrap();
        tx2.send(()).unwrap();
        let mut sel = Select::new();
        let a = sel.recv(&rx1);
        let b = sel.recv(&rx2);
        let oper = sel.select();
        match oper.index() {
            i if i == a => oper.recv(&rx1).unwrap(),
            i if i == b => oper.recv(&rx2).unwrap(),
            _ => unreachable!(),
        }
        wins[oper_index_bucket(a, b, &rx1)] += 1;
        // Drain the other so both are ready again next round.
        while rx1.len() + rx2.len() > 0 {
            let _ = rx1.try_recv();
            let _ = rx2.try_recv();
        }
    }
    let half = TRIALS as f64 / 2.0;
    let sd = (TRIALS as f64 * 0.25).sqrt();
    for w in wins {
        assert!((w as f64 - half).abs() < 10.0 * sd, "wins {wins:?}");
    }
    assert_eq!(wins[0] + wins[1], TRIALS);
}

/// Which branch won, seen from the channel state after the round: the winner's channel was
/// drained by the select, the other still holds its message.
fn oper_index_bucket(_a: usize, _b: usize, rx1: &mpmc::Receiver<()>) -> usize {
    usize::from(rx1.len() == 1)
}

/// A 4-branch select under stress (4 coroutines) never deadlocks and delivers everything.
#[test]
fn four_branch_stress() {
    let iters = if cfg!(debug_assertions) {
        10_000
    } else {
        100_000
    };
    let chans: Vec<_> = (0..4).map(|i| mpmc::bounded::<usize>(i % 2)).collect();
    let received = Arc::new(AtomicUsize::new(0));
    let sum = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for p in 0..2usize {
        let txs: Vec<_> = chans.iter().map(|c| c.0.clone()).collect();
        handles.push(coroutine::spawn(move || {
            for i in 0..iters {
                let v = p * iters + i;
                let mut sel = Select::new();
                for tx in &txs {
                    sel.send(tx);
                }
                let oper = sel.select();
                let k = oper.index();
                oper.send(&txs[k], v).unwrap();
            }
        }));
    }
    for _ in 0..2 {
        let rxs: Vec<_> = chans.iter().map(|c| c.1.clone()).collect();
        let (received, sum) = (received.clone(), sum.clone());
        handles.push(coroutine::spawn(move || {
            // Stop selecting a channel once it is empty and disconnected.
            let mut open = [true; 4];
            while open.iter().any(|&o| o) {
                let mut sel = Select::new();
                for (k, rx) in rxs.iter().enumerate() {
                    if open[k] {
                        assert_eq!(sel.recv(rx), k - open[..k].iter().filter(|o| !**o).count());
                    }
                }
                let oper = sel.select();
                let k = (0..4).filter(|&k| open[k]).nth(oper.index()).unwrap();
                match oper.recv(&rxs[k]) {
                    Ok(v) => {
                        received.fetch_add(1, Ordering::Relaxed);
                        sum.fetch_add(v, Ordering::Relaxed);
                    }
                    Err(_) => open[k] = false,
                }
            }
        }));
    }
    drop(chans);
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(received.load(Ordering::Relaxed), 2 * iters);
    assert_eq!(sum.load(Ordering::Relaxed), (0..2 * iters).sum::<usize>());
}

/// Regression for may issue #102: selecting in a loop over two channels receives every
/// message exactly once.
#[test]
fn select_loop_receives_every_message_once() {
    let n = if cfg!(debug_assertions) {
        20_000u64
    } else {
        200_000
    };
    let (tx1, rx1) = mpmc::bounded::<u64>(1);
    let (tx2, rx2) = mpmc::unbounded::<u64>();
    let p1 = coroutine::spawn(move || (0..n).for_each(|i| tx1.send(2 * i).unwrap()));
    let p2 = std::thread::spawn(move || (0..n).for_each(|i| tx2.send(2 * i + 1).unwrap()));
    let mut seen = vec![false; 2 * n as usize];
    let rxs = [&rx1, &rx2];
    let mut open = [true, true];
    while open[0] || open[1] {
        let mut sel = Select::new();
        let live: Vec<usize> = (0..2).filter(|&k| open[k]).collect();
        for &k in &live {
            sel.recv(rxs[k]);
        }
        let oper = sel.select();
        let k = live[oper.index()];
        match oper.recv(rxs[k]) {
            Ok(v) => {
                assert!(!seen[v as usize], "{v} received twice");
                seen[v as usize] = true;
            }
            Err(_) => open[k] = false,
        }
    }
    p1.join().unwrap();
    p2.join().unwrap();
    assert!(seen.iter().all(|&s| s), "a message was lost");
}

/// A coroutine cancelled while blocked in a select unwinds and takes nothing: the message goes
/// to the next receiver.
#[test]
fn cancelled_select_loses_nothing() {
    let (tx, rx) = mpmc::bounded::<u32>(0);
    let (_tx2, rx2) = mpmc::bounded::<u32>(0);
    let rx_c = rx.clone();
    let blocked = coroutine::spawn(move || {
        let mut sel = Select::new();
        sel.recv(&rx_c);
        sel.recv(&rx2);
        let oper = sel.select();
        oper.index()
    });
    blocked.coroutine().cancel();
    assert!(blocked.join().unwrap_err().is_cancelled());
    let s = coroutine::spawn(move || tx.send(11));
    assert_eq!(rx.recv(), Ok(11));
    assert_eq!(s.join().unwrap(), Ok(()));
}

#[test]
#[should_panic(expected = "passed a receiver that wasn't selected")]
fn completing_with_another_receiver_panics() {
    let (tx, rx) = mpmc::unbounded::<u8>();
    let (_tx2, rx2) = mpmc::unbounded::<u8>();
    tx.send(1).unwrap();
    let mut sel = Select::new();
    sel.recv(&rx);
    let oper = sel.select();
    let _ = oper.recv(&rx2);
}

/// More operations than fit inline, and `remove`: indexes stay those returned by `recv`.
#[test]
fn many_operations_and_remove() {
    let chans: Vec<_> = (0..7).map(|_| mpmc::unbounded::<usize>()).collect();
    chans[5].0.send(5).unwrap();
    chans[1].0.send(1).unwrap();
    let mut sel = Select::new();
    let idx: Vec<usize> = chans.iter().map(|c| sel.recv(&c.1)).collect();
    assert_eq!(idx, (0..7).collect::<Vec<_>>());
    sel.remove(1);
    let oper = sel.select();
    assert_eq!(oper.index(), 5, "the removed operation is not selected");
    assert_eq!(oper.recv(&chans[5].1), Ok(5));
    assert!(sel.try_select().is_err());
    assert_eq!(chans[1].1.try_recv(), Ok(1));

    let mut sel = Select::new();
    let a = sel.recv(&chans[0].1);
    let b = sel.recv(&chans[2].1);
    sel.remove(a);
    chans[2].0.send(2).unwrap();
    let oper = sel.select();
    assert_eq!(oper.index(), b);
    assert_eq!(oper.recv(&chans[2].1), Ok(2));
}

/// Cancelling a coroutine that selects in a loop over two channels loses nothing.
#[test]
fn cancel_selecting_loop_loses_nothing() {
    for cap in [0usize, 1] {
        let (tx1, rx1) = mpmc::bounded::<u64>(cap);
        let (tx2, rx2) = mpmc::bounded::<u64>(cap);
        let n = 2_000u64;
        let victim_sum = Arc::new(AtomicUsize::new(0));
        let victim = {
            let (rx1, rx2, sum) = (rx1.clone(), rx2.clone(), victim_sum.clone());
            coroutine::spawn(move || loop {
                let mut sel = Select::new();
                sel.recv(&rx1);
                sel.recv(&rx2);
                let oper = sel.select();
                let r = if oper.index() == 0 { &rx1 } else { &rx2 };
                if let Ok(v) = oper.recv(r) {
                    sum.fetch_add(v as usize, Ordering::SeqCst);
                }
            })
        };
        // The channels stay open until the victim is cancelled: it cannot finish by itself.
        let (release_tx, release_rx) = mpmc::bounded::<()>(1);
        let producer = std::thread::spawn(move || {
            for v in 1..=n {
                if v % 2 == 0 { &tx1 } else { &tx2 }.send(v).unwrap();
            }
            release_rx.recv().unwrap();
        });
        for _ in 0..1_000_000 {
            if victim_sum.load(Ordering::SeqCst) > 0 {
                break;
            }
            std::thread::yield_now();
        }
        victim.coroutine().cancel();
        assert!(victim.join().unwrap_err().is_cancelled());
        release_tx.send(()).unwrap();
        let mut survivor = 0u64;
        let mut open = [true, true];
        let rxs = [&rx1, &rx2];
        while open[0] || open[1] {
            for k in 0..2 {
                if open[k] {
                    match rxs[k].recv_timeout(ms(1)) {
                        Ok(v) => survivor += v,
                        Err(mpmc::RecvTimeoutError::Disconnected) => open[k] = false,
                        Err(mpmc::RecvTimeoutError::Timeout) => {}
                    }
                }
            }
        }
        producer.join().unwrap();
        let total = survivor + victim_sum.load(Ordering::SeqCst) as u64;
        assert_eq!(total, n * (n + 1) / 2, "cap {cap}: a message was lost");
    }
}
