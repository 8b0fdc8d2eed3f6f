//! Shared by the `cancel_*` test files: a coroutine that blocks in one call while holding a
//! drop counter, and the checks of issue 5's cancellation contract on it; and the
//! cancellation-injection harness of issue 12 (`injection.rs`).
#![allow(dead_code)] // each test file uses a different subset

pub mod injection;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine::{self, JoinHandle};

/// How soon after `cancel()` a blocked coroutine must have unwound and been joined: well under
/// the shortest wait the tests block in (2 s; most wait an hour or forever), so that passing
/// it shows the wait was cut short, and far above a scheduling delay on a loaded 2-core machine
/// or under an emulator (50 ms failed about one run in 40 with other builds running). The
/// measured time is printed, not judged: a timing is a benchmark.
pub const BOUND: Duration = Duration::from_secs(1);
/// A wait that never ends within a test.
pub const HOUR: Duration = Duration::from_secs(3600);

/// Counts its drops: held across the blocking call, it proves destructors ran exactly once.
pub struct Tracked(pub Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Polls `cond` from the test thread for at most 2 s (so a bug fails instead of hanging).
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "waited 2 s for {what}"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// A coroutine under test: it holds a `Tracked` across `call` and records whether `call` returned.
pub struct Blocked {
    pub h: JoinHandle<()>,
    pub drops: Arc<AtomicUsize>,
    pub returned: Arc<AtomicBool>,
}

/// Spawns a coroutine that flags "about to block", then runs `call`; returns once the flag is up.
pub fn spawn_armed(call: impl FnOnce() + Send + 'static) -> Blocked {
    let (drops, armed, returned) =
        <(Arc<AtomicUsize>, Arc<AtomicBool>, Arc<AtomicBool>)>::default();
    let (d, a, r) = (drops.clone(), armed.clone(), returned.clone());
    let h = coroutine::spawn(move || {
        let _tracked = Tracked(d);
        a.store(true, SeqCst);
        call();
        r.store(true, SeqCst);
    });
    wait_for("the coroutine to reach its blocking call", || {
        armed.load(SeqCst)
    });
    Blocked { h, drops, returned }
}

/// `spawn_armed`, then a few ms for it to park. No assertion depends on that pause: a coroutine
/// that has not parked yet is cancelled at its blocking call all the same.
pub fn spawn_blocked(call: impl FnOnce() + Send + 'static) -> Blocked {
    let b = spawn_armed(call);
    std::thread::sleep(Duration::from_millis(5));
    assert!(!b.h.is_done(), "the call returned instead of blocking");
    b
}

impl Blocked {
    /// Cancels and checks the whole contract for the cancelled side.
    pub fn cancel(self) {
        let start = Instant::now();
        self.h.coroutine().cancel();
        self.expect_cancelled(start);
    }

    /// The coroutine unwound within `BOUND` of `start`, as cancelled, destructors run once,
    /// and the blocking call never returned.
    pub fn expect_cancelled(self, start: Instant) {
        wait_for("the cancelled coroutine to finish", || self.h.is_done());
        let err = self
            .h
            .join()
            .expect_err("a cancelled coroutine does not return");
        let took = start.elapsed();
        let test = std::thread::current().name().map(str::to_owned);
        println!(
            "{}: unwound {took:?} after cancel",
            test.as_deref().unwrap_or("?")
        );
        assert!(err.is_cancelled() && !err.is_panic(), "{err}");
        assert!(
            took < BOUND,
            "unwound {took:?} after cancel (bound {BOUND:?})"
        );
        assert_eq!(self.drops.load(SeqCst), 1, "destructors ran exactly once");
        assert!(!self.returned.load(SeqCst), "the blocking call returned");
    }

    /// The coroutine finishes normally (it got what it waited for).
    pub fn finish(self) {
        wait_for("the second waiter to finish", || self.h.is_done());
        assert!(self.h.join().is_ok(), "the second waiter was not served");
        assert!(self.returned.load(SeqCst));
        assert_eq!(self.drops.load(SeqCst), 1);
    }
}

/// A fresh shared counter.
pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}
