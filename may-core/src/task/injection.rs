//! Cancellation injection, for tests only: the running coroutine counts the blocking points it
//! passes, and the k-th one sees a cancellation, as if `Coroutine::cancel()` had been called
//! just before it (or while the coroutine was blocked there). A test runs a scenario for k = 1,
//! 2, 3, ... until a run passes fewer than k points, and checks the scenario's invariants after
//! every run (`tests/cancel_support/injection.rs` in the repository, docs/architecture.md).
//!
//! Built only with the cargo feature `__cancel_injection`, which is unstable, test-only and not
//! part of the API (`may`'s own tests turn it on through its dev-dependencies). Without it the
//! hooks below are empty and inlined: tasks carry no counter and blocking calls do nothing more.
//!
//! # What counts as a blocking point
//! Every place where a pending cancellation takes effect, once per call:
//! - [`Point::Check`]: `cancel_point()` (the cancellation points of calls that check before
//!   doing anything, `park` before and after parking, a scope re-raising after its join, a
//!   blocking job's caller once the job is done) and `yield_now`;
//! - [`Point::Wait`]: every entry into `wait::wait` that is a cancellation point
//!   (`OnCancel::Unwind`: channels, locks, condvar, semaphore, barrier, wait group, blocker,
//!   join, sleep, timers, sockets, `Select`, futures) or that passes a cancellation on
//!   (`OnCancel::Watch`: a scope waiting for its children).
//!
//! Not counted: `try_` calls and other waits made with `OnCancel::Defer` (a `try_` is no
//! cancellation point, and the other deferred waits are exactly the ones a cancellation must not
//! cut short), and fast paths that never reach the wait helper (a free lock), which a real
//! cancellation does not interrupt either.

/// When an injected cancellation reaches the chosen blocking point.
#[cfg(feature = "__cancel_injection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// As if `cancel()` had been called just before the call: it sees the cancellation on entry.
    BeforeCall,
    /// As if `cancel()` had been called while the coroutine was blocked there: a wait sees it
    /// after registering (the canceller wins the waiter's slot, unless a peer already completed
    /// the wait), a call that completed without blocking sees it right after it returned (the
    /// next blocking point unwinds), and a plain cancellation point sees it on entry.
    WhileBlocked,
}

/// How an injected cancellation was delivered, once it was (see [`Delivery`]).
#[cfg(feature = "__cancel_injection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// On entry to the point (every `BeforeCall`, and `WhileBlocked` at a point that is no wait).
    OnEntry,
    /// In a wait that had registered and was about to park (`WhileBlocked`).
    WhileParked,
    /// Right after a wait that completed without parking (`WhileBlocked`).
    AfterCall,
}

/// The kind of a blocking point (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Point {
    /// A cancellation check that does not wait (or that waits outside the wait helper).
    Check,
    /// A call of the wait helper that a cancellation affects.
    Wait,
}

#[cfg(feature = "__cancel_injection")]
mod enabled {
    use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering::Relaxed};

    use super::{Delivered, Delivery, Point};
    use crate::task::{with_current, Selected, Task};

    /// A task's injection state. Only the task itself touches it, while it runs; atomics only
    /// because a task is shared between threads.
    #[derive(Debug, Default)]
    pub(crate) struct Injection {
        /// The point to cancel at, counted from 1; 0: no injection.
        target: AtomicU32,
        /// Points passed since the target was set.
        passed: AtomicU32,
        /// `Delivery` as a number (`BEFORE_CALL` or `WHILE_BLOCKED`).
        delivery: AtomicU8,
        /// The target point was reached in a wait with `WhileBlocked`: the cancellation is
        /// delivered when that wait parks, or when it ends without parking.
        armed: AtomicBool,
        /// How the cancellation was delivered: `NOT_YET` or a `Delivered` as a number.
        delivered: AtomicU8,
    }

    const BEFORE_CALL: u8 = 0;
    const WHILE_BLOCKED: u8 = 1;

    const NOT_YET: u8 = 0;
    const ON_ENTRY: u8 = 1;
    const WHILE_PARKED: u8 = 2;
    const AFTER_CALL: u8 = 3;

    /// Requests the cancellation of the running `task` and records how it came.
    fn deliver(task: &Task, how: u8) {
        task.injection.delivered.store(how, Relaxed);
        task.request_cancel();
    }

    /// The running task passes a blocking point.
    pub(crate) fn point(task: &Task, kind: Point) {
        let state = &task.injection;
        let target = state.target.load(Relaxed);
        if target == 0 {
            return;
        }
        let passed = state.passed.load(Relaxed).saturating_add(1);
        state.passed.store(passed, Relaxed);
        if passed != target {
            return;
        }
        if kind == Point::Wait && state.delivery.load(Relaxed) == WHILE_BLOCKED {
            state.armed.store(true, Relaxed);
        } else {
            deliver(task, ON_ENTRY);
        }
    }

    /// Clears `armed`, returning whether it was set. A load first: only the task itself writes
    /// the flag, and may's examples (built with may's dev-dependencies, so with this feature)
    /// should not pay a locked instruction per wait for it.
    fn disarm(task: &Task) -> bool {
        let armed = task.injection.armed.load(Relaxed);
        if armed {
            task.injection.armed.store(false, Relaxed);
        }
        armed
    }

    /// The running task registered its waiter and is about to park.
    pub(crate) fn parking(task: &Task) {
        if disarm(task) {
            // What `cancel()` does to a parked task, but no unpark: the task is running, and
            // the wait sees the won slot without parking.
            deliver(task, WHILE_PARKED);
            let _ = task.slot.try_select(Selected::Cancelled);
        }
    }

    /// The running task's wait returned without parking after its target point was reached.
    pub(crate) fn wait_ended(task: &Task) {
        if disarm(task) {
            deliver(task, AFTER_CALL);
        }
    }

    /// Makes the running coroutine see a cancellation at its `k`-th blocking point from now
    /// (counted from 1; 0 turns injection off), delivered as `delivery` says, and restarts the
    /// count of [`blocking_points_passed`]. Returns `false` (and does nothing) on a plain
    /// thread. Only the running coroutine is affected, not the coroutines it spawns.
    pub fn cancel_at_blocking_point(k: u32, delivery: Delivery) -> bool {
        with_current(|task| {
            let Some(task) = task else {
                return false;
            };
            let state = &task.injection;
            state.passed.store(0, Relaxed);
            state.armed.store(false, Relaxed);
            state.delivered.store(NOT_YET, Relaxed);
            state.delivery.store(
                match delivery {
                    Delivery::BeforeCall => BEFORE_CALL,
                    Delivery::WhileBlocked => WHILE_BLOCKED,
                },
                Relaxed,
            );
            state.target.store(k, Relaxed);
            true
        })
    }

    /// How many blocking points the running coroutine passed since its last
    /// [`cancel_at_blocking_point`] (counted only while a target is set; 0 on a plain thread).
    pub fn blocking_points_passed() -> u32 {
        with_current(|task| task.map_or(0, |task| task.injection.passed.load(Relaxed)))
    }

    /// How the cancellation set by [`cancel_at_blocking_point`] reached the running coroutine,
    /// if it did.
    pub fn injected() -> Option<Delivered> {
        with_current(|task| match task?.injection.delivered.load(Relaxed) {
            ON_ENTRY => Some(Delivered::OnEntry),
            WHILE_PARKED => Some(Delivered::WhileParked),
            AFTER_CALL => Some(Delivered::AfterCall),
            _ => None,
        })
    }
}

#[cfg(feature = "__cancel_injection")]
pub use enabled::{blocking_points_passed, cancel_at_blocking_point, injected};
#[cfg(feature = "__cancel_injection")]
pub(crate) use enabled::{parking, point, wait_ended, Injection};

#[cfg(not(feature = "__cancel_injection"))]
use super::Task;

/// The running task passes a blocking point (nothing without the feature).
#[cfg(not(feature = "__cancel_injection"))]
#[inline(always)]
pub(crate) fn point(_task: &Task, _kind: Point) {}

/// The running task is about to park in a wait (nothing without the feature).
#[cfg(not(feature = "__cancel_injection"))]
#[inline(always)]
pub(crate) fn parking(_task: &Task) {}

/// The running task's wait returned without parking (nothing without the feature).
#[cfg(not(feature = "__cancel_injection"))]
#[inline(always)]
pub(crate) fn wait_ended(_task: &Task) {}
