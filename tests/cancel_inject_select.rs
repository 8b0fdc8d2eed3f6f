//! Cancellation injected at every blocking point of a coroutine that selects (`select!` with
//! native `recv`/`send` branches, `select!` with a general branch, `Select::select` and
//! `select_timeout`) or waits on timers (`sleep`, `after`, `tick`, `park_timeout`,
//! `recv_timeout`, `select!`'s `default(timeout)`) (issue 12). After every run each message
//! sent was received exactly once (a branch body, a general branch's child, the consumer or the
//! check) and dropped exactly once. Harness: `cancel_support/injection.rs`; scenarios:
//! `inject_scenarios/select.rs`.

mod cancel_support;
mod inject_scenarios;

use cancel_support::injection::inject;
use inject_scenarios::select::{selecting, timers, Selector};

/// Messages per producer, or timer waits, per run.
const N: u64 = 6;

#[test]
fn select_macro_native_branches() {
    inject("select! recv/recv/send", || selecting(N, Selector::Native));
}

#[test]
fn select_macro_general_branch() {
    inject("select! recv + general", || selecting(N, Selector::General));
}

#[test]
fn dynamic_select() {
    inject("Select::select", || selecting(N, Selector::Dynamic));
    inject("Select::select_timeout", || {
        selecting(N, Selector::DynamicTimeout)
    });
}

#[test]
fn timers_and_sleep() {
    inject("sleep/after/tick/park_timeout/recv_timeout/default", || {
        timers(12)
    });
}
