//! The scenarios of the cancellation-injection tests (issue 12), shared by the quick
//! `cancel_inject_*.rs` files and the release-mode `stress_cancel_inject.rs`, which runs them
//! bigger. Each is a `Scenario` for `cancel_support::injection::inject`: the body does the
//! blocking calls under test against peers its setup started, and the check asserts totals.
#![allow(dead_code)] // each test file uses a different subset

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use crate::cancel_support::injection::Run;
use may::coroutine::{self, JoinHandle};

pub mod channels;
pub mod coroutines;
pub mod locks;
pub mod net;
pub mod select;
pub mod signals;

/// Keeps a peer busy for a moment while it holds a lock or permit (or before its next message):
/// a short spin, so that the body, on the other worker, finds it taken and parks, then a yield,
/// so that the body gets its turn on a shared worker. No assertion depends on it, only how
/// often the body parks. Not a sleep: a timer's wait lasts about a millisecond (the driver's
/// poll timeout), which made the release-mode stress file take minutes.
pub fn hold() {
    let start = Instant::now();
    while start.elapsed() < Duration::from_micros(20) {
        std::hint::spin_loop();
    }
    coroutine::yield_now();
}

/// Peer coroutines of a scenario, stopped and joined by its check.
#[derive(Default)]
pub struct Peers {
    handles: std::sync::Mutex<Vec<JoinHandle<()>>>,
    stop: Arc<AtomicBool>,
}

impl Peers {
    pub fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        self.handles
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(coroutine::spawn(f));
    }

    /// Spawns a peer that calls `round` until the check stops the peers: it contends with the
    /// body for as long as the body runs, however long that is.
    pub fn spawn_until_stopped(&self, mut round: impl FnMut() + Send + 'static) {
        let stop = self.stop.clone();
        self.spawn(move || {
            while !stop.load(SeqCst) {
                round();
            }
        });
    }

    /// Stops the peers that run until stopped, and joins every peer.
    pub fn join(&self, run: &Run) {
        self.stop.store(true, SeqCst);
        let handles =
            std::mem::take(&mut *self.handles.lock().unwrap_or_else(PoisonError::into_inner));
        for peer in handles {
            assert!(peer.join().is_ok(), "{run:?}: a peer failed");
        }
    }
}
