//! `JoinHandle::wait`: waits for the coroutine to finish without taking its result (may 0.3's
//! `wait`), from coroutines and threads, by several waiters at once; the result stays for
//! `join`, a panic stays for `join` too, and a cancelled waiter unwinds from the wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine;
use may::sync::mpmc;

#[test]
fn wait_leaves_the_result_for_join() {
    let (tx, rx) = mpmc::bounded::<u32>(0);
    let target = coroutine::spawn(move || rx.recv().unwrap() * 2);
    let target = Arc::new(target);
    let waited = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..10)
        .map(|_| {
            let (target, waited) = (Arc::clone(&target), Arc::clone(&waited));
            coroutine::spawn(move || {
                target.wait();
                assert!(target.is_done());
                waited.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // One more waiter on a plain thread.
    let thread_waiter = {
        let target = Arc::clone(&target);
        std::thread::spawn(move || {
            target.wait();
            target.is_done()
        })
    };
    assert!(!target.is_done(), "the target waits for its message");
    assert_eq!(waited.load(Ordering::SeqCst), 0);
    tx.send(21).unwrap();
    for waiter in waiters {
        waiter.join().unwrap();
    }
    assert!(thread_waiter.join().unwrap());
    assert_eq!(waited.load(Ordering::SeqCst), 10);
    let target = Arc::into_inner(target).expect("every waiter is gone");
    target.wait();
    assert_eq!(target.join().unwrap(), 42);
}

#[test]
fn a_panic_is_left_for_join() {
    let target = coroutine::spawn(|| -> u8 { panic!("boom") });
    target.wait();
    assert!(target.is_done());
    let err = target.join().unwrap_err();
    assert_eq!(err.panic_message(), Some("boom"));
}

#[test]
fn a_cancelled_waiter_unwinds_and_the_target_runs_on() {
    let (tx, rx) = mpmc::bounded::<u32>(0);
    let target = Arc::new(coroutine::spawn(move || rx.recv().unwrap() + 1));
    let (started_tx, started_rx) = mpmc::bounded::<()>(0);
    let waiter = {
        let target = Arc::clone(&target);
        coroutine::spawn(move || {
            started_tx.send(()).unwrap();
            // The cancellation arrives in this wait, or before it and is pending when it starts:
            // either way it unwinds from here.
            target.wait();
            unreachable!("the target never finishes while this coroutine waits");
        })
    };
    started_rx.recv().unwrap();
    waiter.coroutine().cancel();
    assert!(waiter.join().unwrap_err().is_cancelled());
    assert!(!target.is_done());
    tx.send(1).unwrap();
    let target = Arc::into_inner(target).expect("the waiter is gone");
    assert_eq!(target.join().unwrap(), 2);
}
