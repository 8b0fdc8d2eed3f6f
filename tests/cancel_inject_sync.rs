//! Cancellation injected at every blocking point of a coroutine that contends for a `Mutex`, an
//! `RwLock` or a `Semaphore`, waits on a `Condvar` (`wait`, `wait_timeout`), a `Barrier`, a
//! `WaitGroup`, parks on a `Blocker` or with `coroutine::park` (issue 12). After every run: the
//! lock is free, or poisoned exactly when the cancelled body held a guard that poisons; every
//! update under a lock is counted; permits are back; barrier generations, wait-group counts and
//! notifications add up (a lost one hangs the run, which fails). Harness:
//! `cancel_support/injection.rs`; scenarios: `inject_scenarios/locks.rs` and
//! `inject_scenarios/signals.rs`.

mod cancel_support;
mod inject_scenarios;

use cancel_support::injection::inject;
use inject_scenarios::{
    locks::{condvar_queue, lock_counter, semaphore_rounds},
    signals::{barrier_rounds, park_ping_pong, wait_group_rounds},
};
use may::sync::{Mutex, RwLock};

/// Rounds (or messages) per run.
const N: u64 = 8;

#[test]
fn mutex() {
    inject("Mutex::lock", || lock_counter::<Mutex<u64>>(N));
}

#[test]
fn rwlock() {
    inject("RwLock::write/read", || lock_counter::<RwLock<u64>>(N));
}

#[test]
fn condvar() {
    inject("Condvar::wait", || condvar_queue(N, false));
    inject("Condvar::wait_timeout", || condvar_queue(N, true));
}

#[test]
fn semaphore() {
    inject("Semaphore::acquire", || semaphore_rounds(N));
}

#[test]
fn barrier() {
    inject("Barrier::wait", || barrier_rounds(N));
}

#[test]
fn wait_group() {
    inject("WaitGroup::wait", || wait_group_rounds(N));
}

#[test]
fn park() {
    inject("Blocker::park", || park_ping_pong(N, true));
    inject("coroutine::park", || park_ping_pong(N, false));
}
