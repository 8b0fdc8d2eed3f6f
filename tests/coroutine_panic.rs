//! Panic isolation: a panicking coroutine never takes down its worker or other coroutines.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine;

#[test]
fn panics_are_isolated_and_returned_by_join() {
    let healthy_done = Arc::new(AtomicUsize::new(0));
    let mut healthy = Vec::new();
    let mut panicking = Vec::new();
    for i in 0..1_000u64 {
        let done = healthy_done.clone();
        healthy.push(coroutine::spawn(move || {
            coroutine::yield_now();
            done.fetch_add(1, Ordering::SeqCst);
            i
        }));
        panicking.push(coroutine::spawn(move || {
            coroutine::yield_now();
            if i < u64::MAX {
                panic!("boom {i}");
            }
        }));
    }
    let mut messages = 0;
    for (i, h) in panicking.into_iter().enumerate() {
        let err = h.join().unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        assert_eq!(err.panic_message(), Some(format!("boom {i}").as_str()));
        assert_eq!(err.to_string(), format!("coroutine panicked: boom {i}"));
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<String>(), Some(&format!("boom {i}")));
        messages += 1;
    }
    let sum: u64 = healthy.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(messages, 1_000);
    assert_eq!(sum, (0..1_000).sum());
    assert_eq!(healthy_done.load(Ordering::SeqCst), 1_000);
    // The workers survived: new coroutines still run.
    assert_eq!(coroutine::spawn(|| 7).join().unwrap(), 7);
}

#[test]
fn destructors_run_when_a_coroutine_panics() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let guard = Counted(drops.clone());
            coroutine::spawn(move || {
                let _inner = Counted(guard.0.clone());
                let _guard = guard;
                coroutine::yield_now();
                panic!("with two values alive");
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap_err().is_panic());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 200);
}

#[test]
fn non_string_payload_is_kept() {
    let err = coroutine::spawn(|| std::panic::panic_any(42u32))
        .join()
        .unwrap_err();
    assert_eq!(err.panic_message(), None);
    assert_eq!(
        err.to_string(),
        "coroutine panicked with a non-string payload"
    );
    assert_eq!(err.into_panic().downcast_ref::<u32>(), Some(&42));
}
