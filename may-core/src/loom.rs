//! The atomics of the runtime's own lock-free state machines, swapped for loom's when the crate
//! is built with `--cfg loom` so that `loom` can explore every interleaving of them (see
//! `coroutine/park_token.rs` and `wait/mod.rs`; run by `.ci/run`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU8, AtomicUsize};
