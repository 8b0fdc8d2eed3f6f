//! Coroutine-local storage and `thread_local!` inside coroutines.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine;

may::coroutine_local!(static COUNTER: Cell<u64> = Cell::new(0));
may::coroutine_local!(static NAME: RefCell<String> = RefCell::new(String::new()));

#[test]
fn each_of_10_000_coroutines_sees_its_own_value() {
    let total = coroutine::spawn(|| {
        let handles: Vec<_> = (0..10_000u64)
            .map(|i| {
                coroutine::spawn(move || {
                    assert_eq!(
                        COUNTER.with(Cell::get),
                        0,
                        "a fresh coroutine starts at init"
                    );
                    for _ in 0..=i % 7 {
                        COUNTER.with(|c| c.set(c.get() + 1));
                        coroutine::yield_now();
                    }
                    NAME.with(|n| n.borrow_mut().push_str(&i.to_string()));
                    coroutine::yield_now();
                    assert_eq!(NAME.with(|n| n.borrow().clone()), i.to_string());
                    COUNTER.with(Cell::get)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    })
    .join()
    .unwrap();
    assert_eq!(total, (0..10_000u64).map(|i| i % 7 + 1).sum());
}

#[test]
fn outside_coroutines_it_is_thread_local() {
    COUNTER.with(|c| c.set(5));
    let other = std::thread::spawn(|| COUNTER.with(Cell::get))
        .join()
        .unwrap();
    assert_eq!(other, 0);
    assert_eq!(COUNTER.with(Cell::get), 5);
    // A coroutine does not see the spawning thread's value.
    assert_eq!(
        coroutine::spawn(|| COUNTER.with(Cell::get)).join().unwrap(),
        0
    );
}

#[test]
fn values_are_dropped_when_the_coroutine_finishes() {
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    may::coroutine_local!(static TRACKED: RefCell<Option<Tracked>> = RefCell::new(None));
    let drops = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let drops = drops.clone();
            coroutine::spawn(move || {
                TRACKED.with(|t| *t.borrow_mut() = Some(Tracked(drops)));
                DROPS.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(DROPS.load(Ordering::SeqCst), 50);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        50,
        "every coroutine-local value dropped once"
    );
}

thread_local! {
    static THREAD_MARK: Cell<usize> = const { Cell::new(0) };
}

#[test]
fn thread_locals_stay_consistent_across_yields() {
    // A started coroutine stays on its worker, so a thread-local (and an Rc) held across
    // yields keeps meaning the same thread's value.
    let handles: Vec<_> = (0..64)
        .map(|_| {
            coroutine::spawn(|| {
                let mine = THREAD_MARK.with(|m| m as *const Cell<usize> as usize);
                let shared = Rc::new(Cell::new(0));
                for round in 0..200 {
                    let before = THREAD_MARK.with(|m| m as *const Cell<usize> as usize);
                    coroutine::yield_now();
                    let after = THREAD_MARK.with(|m| m as *const Cell<usize> as usize);
                    assert_eq!(before, after, "thread-local moved in round {round}");
                    assert_eq!(after, mine);
                    shared.set(shared.get() + 1);
                }
                shared.get()
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, 64 * 200);
}
