//! `join!`: each expression in its own coroutine, borrowing locals, results as a tuple, panics
//! propagated after every coroutine finished.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use may::{coroutine, join};

fn name_and_stack() -> (bool, usize) {
    (coroutine::is_coroutine(), coroutine::current().stack_size())
}

#[test]
fn returns_a_tuple_in_argument_order() {
    let (a, b, c) = join!(1 + 1, "two", vec![3u8; 3]);
    assert_eq!((a, b, c), (2, "two", vec![3, 3, 3]));
    let (single,) = join!(name_and_stack());
    assert!(single.0, "the expression runs in a coroutine");
}

#[test]
fn expressions_borrow_locals() {
    let words = ["a", "bb", "ccc"];
    let mut left = Vec::new();
    let mut right = 0usize;
    let shared = AtomicUsize::new(0);
    let (n, ()) = join!(
        {
            shared.fetch_add(1, Ordering::SeqCst);
            words.len()
        },
        {
            shared.fetch_add(1, Ordering::SeqCst);
            left.extend(words.iter().map(|w| w.len()));
            right = left.iter().sum();
        },
    );
    assert_eq!(n, 3);
    assert_eq!(left, [1, 2, 3]);
    assert_eq!(right, 6);
    assert_eq!(shared.into_inner(), 2);
}

#[test]
fn stack_option_applies_to_every_coroutine() {
    let (a, b) = join!(stack = "128KiB", name_and_stack(), name_and_stack());
    assert_eq!(a, (true, 128 * 1024));
    assert_eq!(b, (true, 128 * 1024));
}

#[test]
fn a_panic_is_propagated_after_all_finished() {
    let finished = AtomicUsize::new(0);
    let work = |n: usize| {
        for _ in 0..n {
            coroutine::yield_now();
        }
        finished.fetch_add(1, Ordering::SeqCst);
        n
    };
    let fail = || -> usize { panic!("second failed") };
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        join!(work(50), fail(), work(100), work(10))
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"second failed"));
    assert_eq!(finished.into_inner(), 3, "the others ran to completion");
}

#[test]
fn nested_join_from_a_coroutine() {
    let total = coroutine::spawn(|| {
        let (a, (b, c)) = join!(1u32, join!(2u32, 3u32));
        a + b + c
    });
    assert_eq!(total.join().unwrap(), 6);
}
