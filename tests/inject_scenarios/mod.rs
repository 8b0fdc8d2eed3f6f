//! The scenarios of the cancellation-injection tests (issue 12), shared by the quick
//! `cancel_inject_*.rs` files and the release-mode `stress_cancel_inject.rs`, which runs them
//! bigger. Each is a `Scenario` for `cancel_support::injection::inject`: the body does the
//! blocking calls under test against peers its setup started, and the check asserts totals.
#![allow(dead_code)] // each test file uses a different subset

use std::sync::PoisonError;
use std::time::Duration;

use crate::cancel_support::injection::Run;
use may::coroutine::{self, JoinHandle};

pub mod channels;
pub mod coroutines;
pub mod locks;
pub mod net;
pub mod select;
pub mod signals;

/// How long a peer holds a lock or permit: long enough that the body, on another worker, finds
/// it taken and parks (the contention does not depend on it, only how often the body parks).
pub const HOLD: Duration = Duration::from_micros(100);

/// Peer coroutines of a scenario, joined by its check.
#[derive(Default)]
pub struct Peers(std::sync::Mutex<Vec<JoinHandle<()>>>);

impl Peers {
    pub fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(coroutine::spawn(f));
    }

    pub fn join(&self, run: &Run) {
        let peers = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for peer in peers {
            assert!(peer.join().is_ok(), "{run:?}: a peer failed");
        }
    }
}
