//! `may::sync::RwLock`: exact totals with writers and readers from coroutines and threads
//! mixed, readers never see a torn update, poisoning like std, `try_*`, and cancellation of a
//! coroutine blocked in `write`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, TryLockError};

use may::coroutine;
use may::sync::RwLock;

#[test]
fn counter_1000_coroutines_and_4_threads() {
    const COROUTINES: usize = 1_000;
    const ITERS: usize = 10;
    const THREAD_ITERS: usize = 1_000;
    // Writers keep both halves equal; readers check they never see them differ.
    let lock = Arc::new(RwLock::new((0usize, 0usize)));
    let torn = Arc::new(AtomicUsize::new(0));
    let cos: Vec<_> = (0..COROUTINES)
        .map(|i| {
            let (lock, torn) = (lock.clone(), torn.clone());
            coroutine::spawn(move || {
                for j in 0..ITERS {
                    if (i + j) % 2 == 0 {
                        let mut g = lock.write().unwrap();
                        g.0 += 1;
                        coroutine::yield_now();
                        g.1 += 1;
                    } else {
                        let g = lock.read().unwrap();
                        if g.0 != g.1 {
                            torn.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    let ths: Vec<_> = (0..4)
        .map(|t| {
            let (lock, torn) = (lock.clone(), torn.clone());
            std::thread::spawn(move || {
                for j in 0..THREAD_ITERS {
                    if (t + j) % 2 == 0 {
                        let mut g = lock.write().unwrap();
                        g.0 += 1;
                        g.1 += 1;
                    } else {
                        let g = lock.read().unwrap();
                        if g.0 != g.1 {
                            torn.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    cos.into_iter().for_each(|h| h.join().unwrap());
    ths.into_iter().for_each(|h| h.join().unwrap());
    let expected = COROUTINES * ITERS / 2 + 4 * THREAD_ITERS / 2;
    assert_eq!(*lock.read().unwrap(), (expected, expected));
    assert_eq!(torn.load(Ordering::SeqCst), 0);
}

#[test]
fn many_readers_at_once_and_try_variants() {
    let lock = RwLock::new(1);
    let r1 = lock.read().unwrap();
    let r2 = lock.try_read().unwrap();
    assert_eq!(*r1 + *r2, 2);
    assert!(matches!(lock.try_write(), Err(TryLockError::WouldBlock)));
    drop((r1, r2));
    let w = lock.try_write().unwrap();
    assert!(matches!(lock.try_read(), Err(TryLockError::WouldBlock)));
    drop(w);
    let mut lock = lock;
    *lock.get_mut().unwrap() += 1;
    assert_eq!(lock.into_inner().unwrap(), 2);
}

#[test]
fn writer_panic_poisons_reader_panic_does_not() {
    let lock = Arc::new(RwLock::new(0));
    let l = lock.clone();
    let r = coroutine::spawn(move || {
        let _g = l.read().unwrap();
        panic!("reader");
    })
    .join();
    assert!(r.is_err());
    assert!(!lock.is_poisoned());
    let l = lock.clone();
    let r = std::thread::spawn(move || {
        let mut g = l.write().unwrap();
        *g = 3;
        panic!("writer");
    })
    .join();
    assert!(r.is_err());
    assert!(lock.is_poisoned());
    assert_eq!(*lock.read().unwrap_err().into_inner(), 3);
    assert!(matches!(lock.try_write(), Err(TryLockError::Poisoned(_))));
    lock.clear_poison();
    assert_eq!(*lock.write().unwrap(), 3);
}

#[test]
fn writer_waits_for_readers_then_readers_wait_for_writer() {
    let lock = Arc::new(RwLock::new(Vec::new()));
    let r = lock.read().unwrap();
    let l = lock.clone();
    let writer = coroutine::spawn(move || l.write().unwrap().push("w"));
    let l = lock.clone();
    let reader = std::thread::spawn(move || l.read().unwrap().len());
    drop(r);
    writer.join().unwrap();
    // The reader either ran before the writer queued (0) or after it (1).
    assert!(reader.join().unwrap() <= 1);
    assert_eq!(*lock.read().unwrap(), vec!["w"]);
}

#[test]
fn cancel_coroutine_blocked_in_write() {
    let lock = Arc::new(RwLock::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let reader = lock.read().unwrap();
    let (l, t) = (lock.clone(), Token(drops.clone()));
    let victim = coroutine::spawn(move || {
        let _t = t;
        *l.write().unwrap() += 100;
    });
    let l = lock.clone();
    let next = coroutine::spawn(move || *l.write().unwrap() += 1);
    victim.coroutine().cancel();
    assert!(victim.join().unwrap_err().is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(reader);
    next.join().unwrap();
    assert_eq!(*lock.read().unwrap(), 1);
    assert!(!lock.is_poisoned());
}
