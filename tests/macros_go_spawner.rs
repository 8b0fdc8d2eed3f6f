//! `go!(spawner, body)`: with a `Builder` it is `Builder::spawn` (an `io::Result`), with the `s`
//! of `coroutine::scope(|s| ..)` it is `Scope::spawn` (a scoped coroutine that may borrow).
//! The body may be a closure or a Go-style call (the order of evaluation is checked in
//! macros_go.rs).

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use may::coroutine::{self, Builder, JoinHandle, ScopedJoinHandle};
use may::go;

fn whoami() -> (Option<String>, usize) {
    let me = coroutine::current();
    (me.name().map(str::to_string), me.stack_size())
}

#[test]
fn a_builder_gives_the_result_of_builder_spawn() {
    let handle: io::Result<JoinHandle<_>> = go!(
        Builder::new().name("conn").stack_size(16 * 1024),
        move || whoami()
    );
    let handle = handle.expect("a valid builder spawns");
    assert_eq!(handle.coroutine().name(), Some("conn"));
    assert_eq!(
        handle.join().unwrap(),
        (Some("conn".to_string()), 16 * 1024)
    );

    let builder = Builder::new().name(format!("job-{}", 7));
    let handle = go!(builder, whoami).unwrap();
    assert_eq!(handle.join().unwrap().0.as_deref(), Some("job-7"));
}

/// Counts drops, to see that a body that could not be spawned is dropped, once, unrun.
struct Tracked<'a>(&'a AtomicUsize);

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_builder_that_cannot_spawn_returns_the_error() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let tracked = Tracked(&DROPS);
    let result = go!(Builder::new().stack_size(2 << 30), move || {
        let _keep = &tracked;
        RUNS.fetch_add(1, Ordering::SeqCst);
    });
    let err = result.expect_err("a stack above 1 GiB cannot be spawned");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(RUNS.load(Ordering::SeqCst), 0);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
}

#[test]
fn a_scope_spawns_coroutines_that_borrow() {
    let mut array = [1u64, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    coroutine::scope(|s| {
        for x in &mut array {
            go!(s, move || *x *= 2);
        }
    });
    assert_eq!(array.iter().sum::<u64>(), 110);

    let words = ["go", "with", "a", "scope"];
    let total = coroutine::scope(|s| {
        let handles: Vec<ScopedJoinHandle<'_, usize>> =
            words.iter().map(|w| go!(s, || w.len())).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum::<usize>()
    });
    assert_eq!(total, 12);
}

fn count_even(values: &[u32], seen: &AtomicUsize) -> usize {
    seen.fetch_add(values.len(), Ordering::SeqCst);
    values.iter().filter(|v| *v % 2 == 0).count()
}

#[test]
fn scoped_go_style_calls_and_nested_scopes() {
    let data: Vec<u32> = (0..100).collect();
    let seen = AtomicUsize::new(0);
    let evens = coroutine::scope(|s| {
        let halves: Vec<_> = data
            .chunks(50)
            .map(|chunk| go!(s, count_even(chunk, &seen)))
            .collect();
        halves.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
    });
    assert_eq!(evens, 50);
    assert_eq!(seen.load(Ordering::SeqCst), 100);

    // Scopes inside scoped coroutines: every element is bumped twice, once by each level.
    let mut cells = [0u32; 8];
    coroutine::scope(|outer| {
        for cell in &mut cells {
            go!(outer, move || {
                coroutine::scope(|inner| {
                    go!(inner, || {
                        coroutine::yield_now();
                        *cell += 1;
                    });
                });
                *cell += 1;
            });
        }
    });
    assert_eq!(cells, [2; 8]);
}

#[test]
fn the_crate_option_goes_with_a_spawner() {
    let n = coroutine::scope(|s| go!(crate = "may", s, || 21 * 2).join().unwrap());
    assert_eq!(n, 42);
    let h = go!(crate = "may", Builder::new(), || 5).unwrap();
    assert_eq!(h.join().unwrap(), 5);
}
