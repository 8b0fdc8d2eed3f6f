//! Stress for the locks under load with cancellation mixed in (release mode; counts are scaled
//! down in debug builds): no lost wake-up (everything joins), exact totals, and cancelled
//! coroutines never take a lock, permit or notification with them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use may::coroutine;
use may::sync::{Blocker, Condvar, Mutex, Semaphore};

fn scale(n: usize) -> usize {
    if cfg!(debug_assertions) {
        n / 10
    } else {
        n
    }
}

#[test]
fn mutex_with_cancellations_keeps_exact_totals() {
    let coroutines = scale(5_000);
    let iters = 20;
    let m = Arc::new(Mutex::new(0usize));
    let done = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..coroutines)
        .map(|i| {
            let (m, done) = (m.clone(), done.clone());
            coroutine::spawn(move || {
                for j in 0..iters {
                    // Cancellation may hit while the guard is held (in yield_now): that poisons.
                    let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
                    *g += 1;
                    done.fetch_add(1, Ordering::SeqCst);
                    if (i + j) % 3 == 0 {
                        coroutine::yield_now();
                    }
                }
            })
        })
        .collect();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (m, done) = (m.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..scale(20_000) {
                    *m.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in hs.iter().step_by(4) {
        h.coroutine().cancel();
    }
    let mut cancelled = 0;
    for h in hs {
        if let Err(e) = h.join() {
            assert!(e.is_cancelled());
            cancelled += 1;
        }
    }
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert!(cancelled <= coroutines.div_ceil(4));
    let total = *m.lock().unwrap_or_else(|e| e.into_inner());
    assert_eq!(total, done.load(Ordering::SeqCst));
}

#[test]
fn semaphore_with_cancellations_loses_no_permit() {
    let permits = 4;
    let sem = Arc::new(Semaphore::new(permits));
    let inside = Arc::new(AtomicUsize::new(0));
    let over = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..scale(5_000))
        .map(|_| {
            let (sem, inside, over) = (sem.clone(), inside.clone(), over.clone());
            coroutine::spawn(move || {
                for _ in 0..10 {
                    let _p = sem.acquire();
                    if inside.fetch_add(1, Ordering::SeqCst) >= permits {
                        over.fetch_add(1, Ordering::SeqCst);
                    }
                    inside.fetch_sub(1, Ordering::SeqCst);
                    coroutine::yield_now();
                }
            })
        })
        .collect();
    for h in hs.iter().step_by(3) {
        h.coroutine().cancel();
    }
    for h in hs {
        let _ = h.join();
    }
    assert_eq!(over.load(Ordering::SeqCst), 0);
    assert_eq!(sem.available_permits(), permits);
}

#[test]
fn condvar_ping_pong_thread_and_coroutine() {
    let rounds = scale(100_000);
    let state = Arc::new((Mutex::new(0usize), Condvar::new()));
    let s = state.clone();
    // The coroutine moves odd -> even, the thread even -> odd.
    let co = coroutine::spawn(move || {
        let mut g = s.0.lock().unwrap();
        while *g < 2 * rounds {
            g =
                s.1.wait_while(g, |v| *v % 2 == 0 && *v < 2 * rounds)
                    .unwrap();
            if *g < 2 * rounds {
                *g += 1;
                s.1.notify_one();
            }
        }
    });
    let mut g = state.0.lock().unwrap();
    while *g < 2 * rounds {
        g = state.1.wait_while(g, |v| *v % 2 == 1).unwrap();
        if *g == 2 * rounds {
            break;
        }
        *g += 1;
        state.1.notify_one();
    }
    assert_eq!(*g, 2 * rounds);
    drop(g);
    co.join().unwrap();
}

/// Each `park` returns `Ok` for exactly one `unpark`: the coroutine's count never runs ahead of
/// the thread's. An unpark whose token the parker took in its re-check used to wake its next
/// park (a stale selection, about one run in fifty of 2,000 rounds).
#[test]
fn blocker_ping_pong_never_runs_ahead() {
    let rounds = scale(200_000);
    let main = Blocker::current();
    let counter = Arc::new(AtomicUsize::new(0));
    let (to_main, seen) = (main.clone(), counter.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let co = coroutine::spawn(move || {
        let me = Blocker::current();
        tx.send(me.clone()).unwrap();
        for _ in 0..rounds {
            me.park(None).unwrap();
            seen.fetch_add(1, Ordering::SeqCst);
            to_main.unpark();
        }
    });
    let co_blocker = rx.recv().unwrap();
    for i in 0..rounds {
        co_blocker.unpark();
        main.park(None).unwrap();
        assert_eq!(counter.load(Ordering::SeqCst), i + 1, "round {i}");
    }
    co.join().unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), rounds);
}

#[test]
fn condvar_consumers_cancelled_mid_stream_lose_no_wake_up() {
    // One notify_one per item: if a cancelled consumer swallowed a notification, an item would
    // stay queued with every live consumer asleep, and the producer's final wait would time out.
    let items = scale(50_000);
    let q = Arc::new((Mutex::new(VecDeque::new()), Condvar::new()));
    let consumed = Arc::new(AtomicUsize::new(0));
    let all_consumed = Arc::new(Condvar::new());
    let consumers: Vec<_> = (0..20)
        .map(|_| {
            let (q, consumed, all) = (q.clone(), consumed.clone(), all_consumed.clone());
            coroutine::spawn(move || loop {
                let g = q.0.lock().unwrap_or_else(|e| e.into_inner());
                let mut g =
                    q.1.wait_while(g, |q| q.is_empty())
                        .unwrap_or_else(|e| e.into_inner());
                let item: usize = g.pop_front().expect("not empty");
                if consumed.fetch_add(1, Ordering::SeqCst) + 1 == items {
                    all.notify_all();
                }
                if item == usize::MAX {
                    return;
                }
            })
        })
        .collect();
    for i in 0..items {
        q.0.lock().unwrap_or_else(|e| e.into_inner()).push_back(i);
        q.1.notify_one();
        if i == items / 2 {
            for h in consumers.iter().step_by(2) {
                h.coroutine().cancel();
            }
        }
    }
    let g = q.0.lock().unwrap_or_else(|e| e.into_inner());
    let (g, res) = all_consumed
        .wait_timeout_while(g, Duration::from_secs(20), |_| {
            consumed.load(Ordering::SeqCst) < items
        })
        .unwrap_or_else(|e| e.into_inner());
    assert!(
        !res.timed_out(),
        "lost wake-up: {} of {items} consumed",
        consumed.load(Ordering::SeqCst)
    );
    drop(g);
    for h in &consumers {
        h.coroutine().cancel();
    }
    let mut cancelled = 0;
    for h in consumers {
        if h.join().is_err() {
            cancelled += 1;
        }
    }
    assert_eq!(cancelled, 20);
    assert_eq!(consumed.load(Ordering::SeqCst), items);
}
