//! The runtime behind `may`: stackful coroutines on runtime-owned stacks, per-worker run queues with
//! stealing of not-yet-started coroutines, timers, one blocking primitive shared by every
//! operation, coroutine-local storage and panic isolation.
//!
//! Users depend on the `may` facade, which re-exports this crate's public modules together with
//! the procedural macros. See `docs/architecture.md` for how the pieces fit.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

#[macro_use]
mod macros;

mod blocking;
pub mod coroutine;
pub mod future;
pub mod io;
mod loom;
mod macro_support;
pub mod net;
pub mod os;
mod reactor;
pub mod runtime;
mod scheduler;
pub mod select;
mod spin_lock;
pub mod sync;
mod sys;
mod task;
mod timer;
pub(crate) mod wait;

pub use runtime::{config, Config, ConfigError};

/// Run-time support for the expansions of the procedural macros; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::macro_support::test_with_workers;

    /// Test-only, unstable cancellation injection (cargo feature `__cancel_injection`): makes
    /// the running coroutine see a cancellation at its k-th blocking point. See
    /// docs/architecture.md, "Cancellation injection".
    #[cfg(feature = "__cancel_injection")]
    pub mod cancel_injection {
        pub use crate::task::injection::{
            blocking_points_passed, cancel_at_blocking_point, injected, Delivered, Delivery,
        };
    }
}
