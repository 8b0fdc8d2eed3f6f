//! Spawning and joining coroutines: results, scale, nesting, panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine::{self, Builder};

#[test]
fn spawn_join_returns_the_result() {
    let h = coroutine::spawn(|| 40 + 2);
    assert_eq!(h.join().unwrap(), 42);
    let h = coroutine::spawn(|| String::from("hello"));
    assert_eq!(h.join().unwrap(), "hello");
}

#[test]
fn hundred_thousand_coroutines_sum() {
    // Spawned from inside a coroutine (the common case) so that stacks come from the pool, in
    // waves of 10,000 so that the live stacks stay far below the default vm.max_map_count.
    let total = coroutine::spawn(|| {
        let mut total = 0u64;
        for wave in 0..10u64 {
            let handles: Vec<_> = (0..10_000u64)
                .map(|i| coroutine::spawn(move || wave * 10_000 + i))
                .collect();
            total += handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>();
        }
        total
    })
    .join()
    .unwrap();
    assert_eq!(total, (0..100_000u64).sum());
}

#[test]
fn spawn_from_a_plain_thread_many() {
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..2_000)
        .map(|_| {
            let counter = counter.clone();
            coroutine::spawn(move || counter.fetch_add(1, Ordering::Relaxed))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 2_000);
}

#[test]
fn nested_spawn() {
    fn tree(depth: u32) -> u64 {
        if depth == 0 {
            return 1;
        }
        let left = coroutine::spawn(move || tree(depth - 1));
        let right = coroutine::spawn(move || tree(depth - 1));
        left.join().unwrap() + right.join().unwrap()
    }
    let leaves = coroutine::spawn(|| tree(10)).join().unwrap();
    assert_eq!(leaves, 1024);
}

#[test]
fn builder_sets_name_and_rounds_stack_size() {
    let h = Builder::new()
        .name("worker-7")
        .stack_size(10_000)
        .spawn(|| {
            let me = coroutine::current();
            (me.name().map(str::to_owned), me.stack_size())
        })
        .unwrap();
    let (name, size) = h.join().unwrap();
    assert_eq!(name.as_deref(), Some("worker-7"));
    assert_eq!(
        size,
        12 * 1024,
        "10,000 bytes round up to three 4 KiB pages"
    );

    let tiny = Builder::new()
        .stack_size(0)
        .spawn(|| coroutine::current().stack_size())
        .unwrap();
    assert_eq!(tiny.join().unwrap(), coroutine::MIN_STACK_SIZE);
}

#[test]
fn absurd_stack_size_is_an_error() {
    let err = Builder::new().stack_size(2 << 30).spawn(|| ()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("1 GiB"), "{err}");
}

#[test]
fn is_coroutine_and_current() {
    assert!(!coroutine::is_coroutine());
    assert!(coroutine::try_current().is_none());
    let h = coroutine::spawn(|| (coroutine::is_coroutine(), coroutine::current().id()));
    let id = h.coroutine().id();
    let (inside, seen) = h.join().unwrap();
    assert!(inside);
    assert_eq!(seen, id);
}
