//! A user's own generators and stackful coroutines (the `generator` and `corosensei` crates)
//! driven inside a may coroutine: they work, and a may blocking call made inside one (on the
//! generator's stack, not the coroutine's) panics in that coroutine alone with a message that
//! says why, while the runtime goes on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine;
use may::sync::mpmc;

/// A `generator::Gn` generator yields its values inside a coroutine.
#[test]
fn a_generator_runs_inside_a_coroutine() {
    let h = coroutine::spawn(|| {
        let squares = generator::Gn::<()>::new_scoped(|mut s| {
            for i in 1..=10u64 {
                s.yield_(i * i);
            }
            generator::done!();
        });
        squares.sum::<u64>()
    });
    assert_eq!(h.join().unwrap(), 385);
}

/// A corosensei coroutine is resumed and suspended inside a may coroutine.
#[test]
fn a_corosensei_coroutine_runs_inside_a_coroutine() {
    use corosensei::{Coroutine, CoroutineResult};
    let h = coroutine::spawn(|| {
        let mut counter = Coroutine::new(|yielder, start: u64| {
            let mut n = start;
            for _ in 0..5 {
                n = yielder.suspend(n) + 1;
            }
            n
        });
        let mut total = 0;
        let mut input = 10;
        loop {
            match counter.resume(input) {
                CoroutineResult::Yield(n) => {
                    total += n;
                    input = n;
                }
                CoroutineResult::Return(n) => return total + n,
            }
        }
    });
    // Yields 10, 11, 12, 13, 14, then returns 15.
    assert_eq!(h.join().unwrap(), 75);
}

fn expect_foreign_stack_panic(err: may::coroutine::JoinError) {
    let msg = err.panic_message().unwrap_or_default().to_string();
    assert!(err.is_panic(), "{err}");
    assert!(
        msg.contains("not coroutine") && msg.contains("generator"),
        "the message says why: {msg}"
    );
}

/// `coroutine::yield_now` inside a `generator::Gn` body panics in the coroutine that drives
/// it; other coroutines keep running.
#[test]
fn yield_inside_a_generator_panics_in_that_coroutine_only() {
    let h = coroutine::spawn(|| {
        let mut gen = generator::Gn::<()>::new_scoped(|mut s| {
            s.yield_(1u32);
            coroutine::yield_now();
            s.yield_(2u32);
            generator::done!();
        });
        let first = gen.next();
        let second = gen.next();
        (first, second)
    });
    expect_foreign_stack_panic(h.join().unwrap_err());
    let ran = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..10)
        .map(|_| {
            let ran = ran.clone();
            coroutine::spawn(move || {
                coroutine::yield_now();
                ran.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(ran.load(Ordering::SeqCst), 10, "the runtime goes on");
}

/// A channel `recv` that would block inside a corosensei coroutine panics before it registers
/// anywhere: the message sent afterwards is still there for the next receiver.
#[test]
fn a_blocking_recv_inside_a_corosensei_coroutine_panics_cleanly() {
    use corosensei::Coroutine;
    let (tx, rx) = mpmc::unbounded::<u32>();
    let rx2 = rx.clone();
    let h = coroutine::spawn(move || {
        let mut inner = Coroutine::<(), (), _>::new(move |_yielder, ()| rx2.recv());
        let _ = inner.resume(());
    });
    expect_foreign_stack_panic(h.join().unwrap_err());
    tx.send(7).unwrap();
    assert_eq!(
        rx.recv(),
        Ok(7),
        "nothing was left registered on the channel"
    );
}
