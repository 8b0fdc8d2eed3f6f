//! Cancellation of coroutines blocked in the foundation's blocking calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;

struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn assert_cancelled_quickly<T: Send + 'static>(
    body: impl FnOnce(DropCounter) -> T + Send + 'static,
) {
    let drops = Arc::new(AtomicUsize::new(0));
    let counter = DropCounter(drops.clone());
    let h = coroutine::spawn(move || body(counter));
    // Let it block first.
    coroutine::spawn(|| coroutine::sleep(Duration::from_millis(20)))
        .join()
        .unwrap();
    let start = Instant::now();
    h.coroutine().cancel();
    let err = h
        .join()
        .err()
        .expect("a cancelled coroutine does not return");
    assert!(err.is_cancelled() && !err.is_panic(), "{err}");
    assert_eq!(err.to_string(), "coroutine was cancelled");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "cancel took {:?}",
        start.elapsed()
    );
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "destructors ran exactly once"
    );
}

#[test]
fn cancel_sleep() {
    assert_cancelled_quickly(|c| {
        coroutine::sleep(Duration::from_secs(3600));
        drop(c);
    });
}

#[test]
fn cancel_park() {
    assert_cancelled_quickly(|c| loop {
        coroutine::park();
        let _ = &c;
    });
}

#[test]
fn cancel_park_timeout() {
    assert_cancelled_quickly(|c| loop {
        coroutine::park_timeout(Duration::from_secs(3600));
        let _ = &c;
    });
}

#[test]
fn cancel_yield_loop() {
    assert_cancelled_quickly(|c| loop {
        coroutine::yield_now();
        let _ = &c;
    });
}

#[test]
fn cancel_join() {
    assert_cancelled_quickly(|c| {
        let sleeper = coroutine::spawn(|| coroutine::sleep(Duration::from_secs(3600)));
        let co = sleeper.coroutine().clone();
        struct CancelOnDrop(may::coroutine::Coroutine);
        impl Drop for CancelOnDrop {
            fn drop(&mut self) {
                self.0.cancel();
            }
        }
        let _cleanup = CancelOnDrop(co);
        let _ = sleeper.join();
        drop(c);
    });
}

#[test]
fn cancel_before_start_never_runs_the_body() {
    let ran = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let ran = ran.clone();
            coroutine::spawn(move || {
                coroutine::yield_now();
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in &handles {
        h.coroutine().cancel();
    }
    let mut cancelled = 0;
    for h in handles {
        if let Err(e) = h.join() {
            assert!(e.is_cancelled());
            cancelled += 1;
        }
    }
    assert_eq!(
        cancelled + ran.load(Ordering::SeqCst),
        100,
        "each either ran or was cancelled"
    );
}

#[test]
fn cancel_finished_coroutine_is_a_no_op() {
    let h = coroutine::spawn(|| 5);
    let co = h.coroutine().clone();
    while !h.is_done() {
        coroutine::yield_now();
    }
    co.cancel();
    assert_eq!(h.join().unwrap(), 5);
}

#[test]
fn destructor_may_block_while_unwinding_from_cancel() {
    struct SleepyDrop(Arc<AtomicUsize>);
    impl Drop for SleepyDrop {
        fn drop(&mut self) {
            // Blocking during the cancellation unwind works and is not cancelled again.
            let start = Instant::now();
            coroutine::sleep(Duration::from_millis(20));
            if start.elapsed() >= Duration::from_millis(20) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    let slept = Arc::new(AtomicUsize::new(0));
    let h = {
        let slept = slept.clone();
        coroutine::spawn(move || {
            let _d = SleepyDrop(slept);
            coroutine::sleep(Duration::from_secs(3600));
        })
    };
    coroutine::spawn(|| coroutine::sleep(Duration::from_millis(10)))
        .join()
        .unwrap();
    h.coroutine().cancel();
    h.coroutine().cancel();
    assert!(h.join().unwrap_err().is_cancelled());
    assert_eq!(slept.load(Ordering::SeqCst), 1);
}
