//! `may::sync::Blocker`: token semantics (an unpark before park is kept), ping-pong between a
//! thread and a coroutine with exact round counts, timeouts, the owner check and cancellation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::sync::{Blocker, ParkError};

#[test]
fn unpark_before_park_is_kept_once() {
    let b = Blocker::current();
    b.unpark();
    b.unpark(); // tokens do not accumulate
    assert_eq!(b.park(Some(Duration::from_secs(5))), Ok(()));
    assert_eq!(b.park(Some(Duration::ZERO)), Err(ParkError::Timeout));
}

#[test]
fn ping_pong_thread_and_coroutine() {
    const ROUNDS: usize = 2_000;
    let main = Blocker::current();
    let counter = Arc::new(AtomicUsize::new(0));
    let (tx_main, counter2) = (main.clone(), counter.clone());
    let (co_tx, co_rx) = std::sync::mpsc::channel();
    let co = coroutine::spawn(move || {
        let me = Blocker::current();
        co_tx.send(me.clone()).unwrap();
        for _ in 0..ROUNDS {
            me.park(None).unwrap();
            counter2.fetch_add(1, Ordering::SeqCst);
            tx_main.unpark();
        }
    });
    let co_blocker = co_rx.recv().unwrap();
    for i in 0..ROUNDS {
        co_blocker.unpark();
        main.park(None).unwrap();
        assert_eq!(counter.load(Ordering::SeqCst), i + 1);
    }
    co.join().unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), ROUNDS);
}

#[test]
fn park_timeout_returns_on_time() {
    let check = || {
        let b = Blocker::current();
        let start = Instant::now();
        assert_eq!(
            b.park(Some(Duration::from_millis(30))),
            Err(ParkError::Timeout)
        );
        start.elapsed()
    };
    assert!(check() >= Duration::from_millis(30));
    assert!(coroutine::spawn(check).join().unwrap() >= Duration::from_millis(30));
}

#[test]
fn park_by_another_owner_panics() {
    let b = Blocker::current();
    let r = coroutine::spawn(move || b.park(Some(Duration::from_millis(1)))).join();
    let err = r.unwrap_err();
    assert!(err.is_panic());
}

#[test]
fn unrelated_coroutine_unpark_does_not_wake_blocker() {
    // Coroutine::unpark targets the coroutine's own park token, not the blocker's.
    let (tx, rx) = std::sync::mpsc::channel();
    let h = coroutine::spawn(move || {
        let b = Blocker::current();
        tx.send(b.clone()).unwrap();
        // Woken only by the blocker's unpark below.
        b.park(None)
    });
    let b = rx.recv().unwrap();
    h.coroutine().unpark();
    b.unpark();
    assert_eq!(h.join().unwrap(), Ok(()));
}

#[test]
fn cancel_parked_coroutine() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let t = Token(drops.clone());
    let h = coroutine::spawn(move || {
        let _t = t;
        let _ = Blocker::current().park(None);
    });
    h.coroutine().cancel();
    assert!(h.join().unwrap_err().is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
