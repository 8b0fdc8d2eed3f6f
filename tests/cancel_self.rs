//! may 0.3's `coroutine::trigger_cancel_panic()` ended the running coroutine as cancelled. Here
//! a coroutine cancels itself and unwinds at its next blocking call or yield, running its
//! destructors, and `join` reports it cancelled (the replacement docs/migrating.md names).

mod cancel_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cancel_support::Tracked;
use may::coroutine;

#[test]
fn a_coroutine_that_cancels_itself_unwinds_at_its_next_yield() {
    let drops = Arc::new(AtomicUsize::new(0));
    let after = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..10)
        .map(|_| {
            let (tracked, after) = (Tracked(Arc::clone(&drops)), Arc::clone(&after));
            coroutine::spawn(move || {
                let _tracked = tracked;
                coroutine::current().cancel();
                coroutine::yield_now();
                after.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.join().unwrap_err().is_cancelled());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 10);
    assert_eq!(after.load(Ordering::SeqCst), 0);
}
