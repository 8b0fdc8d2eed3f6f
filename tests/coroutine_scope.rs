//! Scoped coroutines borrowing from the caller's stack.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use may::coroutine::{self, Builder};

#[test]
fn scope_borrows_stack_data() {
    let numbers: Vec<u64> = (1..=1_000).collect();
    let mut results = [0u64; 10];
    coroutine::scope(|s| {
        for (chunk, out) in numbers.chunks(100).zip(results.iter_mut()) {
            s.spawn(move || {
                coroutine::yield_now();
                *out = chunk.iter().sum();
            });
        }
    });
    assert_eq!(results.iter().sum::<u64>(), 500_500);
    assert!(results.iter().all(|&r| r > 0));
}

#[test]
fn scope_returns_value_and_joins_handles() {
    let base = 10;
    let total = coroutine::scope(|s| {
        let a = s.spawn(|| base + 1);
        let b = s.spawn_with(Builder::new().name("b"), || base + 2).unwrap();
        assert_eq!(b.coroutine().name(), Some("b"));
        a.join().unwrap() + b.join().unwrap()
    });
    assert_eq!(total, 23);
}

#[test]
fn scope_waits_for_unjoined_coroutines() {
    let finished = AtomicUsize::new(0);
    coroutine::scope(|s| {
        for i in 0..50 {
            let finished = &finished;
            s.spawn(move || {
                coroutine::sleep(Duration::from_millis(i % 5));
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(finished.load(Ordering::SeqCst), 50);
}

#[test]
fn scope_panics_if_an_unjoined_child_panicked() {
    let done = AtomicUsize::new(0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        coroutine::scope(|s| {
            s.spawn(|| panic!("child failed"));
            s.spawn(|| done.fetch_add(1, Ordering::SeqCst));
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"a scoped coroutine panicked")
    );
    assert_eq!(
        done.load(Ordering::SeqCst),
        1,
        "the healthy child still ran"
    );
}

#[test]
fn joined_child_panic_does_not_fail_the_scope() {
    let seen = coroutine::scope(|s| {
        let h = s.spawn(|| panic!("observed"));
        h.join().unwrap_err().panic_message().map(str::to_owned)
    });
    assert_eq!(seen.as_deref(), Some("observed"));
}

#[test]
fn scope_body_panic_cancels_and_joins_children() {
    struct Flag<'a>(&'a AtomicUsize);
    impl Drop for Flag<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let dropped = AtomicUsize::new(0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        coroutine::scope(|s| {
            for _ in 0..5 {
                let dropped = &dropped;
                s.spawn(move || {
                    let _flag = Flag(dropped);
                    coroutine::sleep(Duration::from_secs(3600));
                });
            }
            coroutine::sleep(Duration::from_millis(10));
            panic!("scope body failed");
        })
    }));
    assert!(result.is_err());
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        5,
        "children were cancelled and unwound"
    );
}
