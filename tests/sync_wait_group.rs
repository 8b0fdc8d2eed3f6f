//! `may::sync::WaitGroup` (Go's): waiting for 1,000 coroutines and 4 threads, waiting from a
//! coroutine and a thread at once, reuse, timeouts, the negative-counter panic and cancellation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::sync::WaitGroup;

#[test]
fn waits_for_1000_coroutines_and_4_threads() {
    let wg = Arc::new(WaitGroup::new());
    let work = Arc::new(AtomicUsize::new(0));
    wg.add(1_004);
    for i in 0..1_000 {
        let (wg, work) = (wg.clone(), work.clone());
        coroutine::spawn(move || {
            if i % 3 == 0 {
                coroutine::yield_now();
            }
            work.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    }
    for _ in 0..4 {
        let (wg, work) = (wg.clone(), work.clone());
        std::thread::spawn(move || {
            work.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    }
    let (wg2, work2) = (wg.clone(), work.clone());
    let co_waiter = coroutine::spawn(move || {
        wg2.wait();
        work2.load(Ordering::SeqCst)
    });
    wg.wait();
    assert_eq!(work.load(Ordering::SeqCst), 1_004);
    assert_eq!(co_waiter.join().unwrap(), 1_004);
    assert_eq!(wg.count(), 0);
    // Reusable.
    wg.add(1);
    let wg2 = wg.clone();
    coroutine::spawn(move || wg2.done()).join().unwrap();
    wg.wait();
}

#[test]
fn wait_timeout_returns_on_time() {
    let wg = Arc::new(WaitGroup::new());
    wg.add(1);
    let start = Instant::now();
    assert!(!wg.wait_timeout(Duration::from_millis(30)));
    assert!(start.elapsed() >= Duration::from_millis(30));
    let wg2 = wg.clone();
    let elapsed = coroutine::spawn(move || {
        let start = Instant::now();
        assert!(!wg2.wait_timeout(Duration::from_millis(30)));
        start.elapsed()
    })
    .join()
    .unwrap();
    assert!(elapsed >= Duration::from_millis(30));
    wg.done();
    assert!(wg.wait_timeout(Duration::from_millis(1)));
}

#[test]
fn negative_counter_panics_and_leaves_it_unchanged() {
    let wg = WaitGroup::new();
    wg.add(1);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wg.add(-2)));
    let payload = r.unwrap_err();
    let msg = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert_eq!(msg, "sync: negative WaitGroup counter");
    assert_eq!(wg.count(), 1);
    wg.done();
    wg.wait();
}

#[test]
fn cancel_waiting_coroutine() {
    let wg = Arc::new(WaitGroup::new());
    wg.add(1);
    let drops = Arc::new(AtomicUsize::new(0));
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (w, t) = (wg.clone(), Token(drops.clone()));
    let victim = coroutine::spawn(move || {
        let _t = t;
        w.wait();
    });
    let w = wg.clone();
    let other = coroutine::spawn(move || w.wait());
    victim.coroutine().cancel();
    assert!(victim.join().unwrap_err().is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    wg.done();
    other.join().unwrap();
}
