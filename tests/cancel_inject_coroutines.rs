//! Cancellation injected at every blocking point of a coroutine that joins children
//! (`JoinHandle::join`, `wait`), runs a `scope` or `join!` whose children borrow its stack,
//! joins `spawn_blocking` jobs, or blocks on futures with `future::block_on` (issue 12). After
//! every run: each message sent was received exactly once, each value dropped exactly once,
//! every child that borrowed the body's stack finished before the body's frame ended and read
//! intact data. Harness: `cancel_support/injection.rs`; scenarios:
//! `inject_scenarios/coroutines.rs`.

mod cancel_support;
mod inject_scenarios;

use cancel_support::injection::inject;
use inject_scenarios::coroutines::{
    block_on_futures, blocking_jobs, borrowing_children, join_children,
};

/// Messages or rounds per run.
const N: u64 = 6;

#[test]
fn join_handles() {
    inject("JoinHandle::join", || join_children(N, false));
    inject("JoinHandle::wait", || join_children(N, true));
}

#[test]
fn scope_with_borrowing_children() {
    inject("scope", || borrowing_children(N, false));
}

#[test]
fn join_macro_with_borrowing_children() {
    inject("join!", || borrowing_children(N, true));
}

#[test]
fn spawn_blocking_joins() {
    inject("spawn_blocking", || blocking_jobs(N));
}

#[test]
fn future_block_on() {
    inject("future::block_on", || block_on_futures(N));
}
