//! `may::sync::Mutex`: exact counter totals from coroutines and threads mixed, poisoning like
//! std, `try_lock`, `into_inner`/`get_mut`, and cancellation of a coroutine blocked in `lock`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, TryLockError};

use may::coroutine;
use may::sync::Mutex;

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn counter_1000_coroutines_and_4_threads() {
    const COROUTINES: usize = 1_000;
    const THREADS: usize = 4;
    const COROUTINE_ITERS: usize = 20;
    const THREAD_ITERS: usize = 2_000;
    let m = Arc::new(Mutex::new(0usize));
    let coroutines: Vec<_> = (0..COROUTINES)
        .map(|i| {
            let m = m.clone();
            coroutine::spawn(move || {
                for j in 0..COROUTINE_ITERS {
                    let mut g = m.lock().unwrap();
                    *g += 1;
                    if (i + j) % 7 == 0 {
                        // Block while holding the lock so that others queue up and park.
                        coroutine::yield_now();
                    }
                }
            })
        })
        .collect();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                for _ in 0..THREAD_ITERS {
                    *m.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in coroutines {
        h.join().unwrap();
    }
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        *m.lock().unwrap(),
        COROUTINES * COROUTINE_ITERS + THREADS * THREAD_ITERS
    );
}

#[test]
fn try_lock_would_block_while_held_elsewhere() {
    let m = Arc::new(Mutex::new(1));
    let g = m.lock().unwrap();
    let m2 = m.clone();
    let seen = coroutine::spawn(move || matches!(m2.try_lock(), Err(TryLockError::WouldBlock)))
        .join()
        .unwrap();
    assert!(seen);
    drop(g);
    let m2 = m.clone();
    let v = coroutine::spawn(move || *m2.try_lock().unwrap())
        .join()
        .unwrap();
    assert_eq!(v, 1);
}

#[test]
fn panic_in_thread_poisons() {
    let m = Arc::new(Mutex::new(5));
    let m2 = m.clone();
    let r = std::thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(r.is_err());
    assert!(m.is_poisoned());
    let err = m.lock().unwrap_err();
    assert_eq!(**err.get_ref(), 5);
    drop(err);
    assert!(matches!(m.try_lock(), Err(TryLockError::Poisoned(_))));
    m.clear_poison();
    assert!(!m.is_poisoned());
    assert_eq!(*m.lock().unwrap(), 5);
}

#[test]
fn panic_in_coroutine_poisons_and_into_inner_reports_it() {
    let m = Arc::new(Mutex::new(vec![1, 2]));
    let m2 = m.clone();
    let r = coroutine::spawn(move || {
        let mut g = m2.lock().unwrap();
        g.push(3);
        panic!("poison it");
    })
    .join();
    assert!(r.unwrap_err().is_panic());
    let mut m = Arc::try_unwrap(m).unwrap();
    assert_eq!(m.get_mut().unwrap_err().into_inner().len(), 3);
    assert_eq!(m.into_inner().unwrap_err().into_inner(), vec![1, 2, 3]);
}

#[test]
fn get_mut_and_into_inner_unpoisoned() {
    let mut m = Mutex::new(String::from("a"));
    m.get_mut().unwrap().push('b');
    assert_eq!(m.into_inner().unwrap(), "ab");
    let m: Mutex<u8> = Mutex::default();
    assert_eq!(format!("{m:?}"), "Mutex { data: 0, poisoned: false, .. }");
}

#[test]
fn cancel_coroutine_blocked_in_lock() {
    let m = Arc::new(Mutex::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let held = m.lock().unwrap();

    let (m2, token, started2) = (m.clone(), DropCounter(drops.clone()), started.clone());
    let victim = coroutine::spawn(move || {
        let _token = token;
        started2.store(1, Ordering::SeqCst);
        *m2.lock().unwrap() += 100;
    });
    // Give the victim a chance to reach `lock` (the outcome asserted is the same either way).
    for _ in 0..10_000 {
        if started.load(Ordering::SeqCst) == 1 {
            break;
        }
        std::thread::yield_now();
    }
    let m3 = m.clone();
    let next = coroutine::spawn(move || *m3.lock().unwrap() += 1);

    victim.coroutine().cancel();
    let err = victim.join().unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    drop(held);
    next.join().unwrap();
    assert_eq!(*m.lock().unwrap(), 1);
    assert!(!m.is_poisoned());
}

#[test]
fn many_waiters_all_get_the_lock_once() {
    // Every waiter parks behind a held lock; one unlock then lets them through one by one.
    let m = Arc::new(Mutex::new(Vec::new()));
    let g = m.lock().unwrap();
    let hs: Vec<_> = (0..200usize)
        .map(|i| {
            let m = m.clone();
            coroutine::spawn(move || m.lock().unwrap().push(i))
        })
        .collect();
    drop(g);
    for h in hs {
        h.join().unwrap();
    }
    let mut v = m.lock().unwrap().clone();
    v.sort_unstable();
    assert_eq!(v, (0..200).collect::<Vec<_>>());
}
