//! # may: stackful coroutines for Rust
//!
//! Write ordinary blocking code (`rx.recv()`, `stream.read(..)`, `sleep(d)`) inside coroutines;
//! the runtime runs many thousands of them on a few worker threads.
//!
//! ```
//! use may::coroutine;
//!
//! let handles: Vec<_> = (0..10u64).map(|i| coroutine::spawn(move || i * i)).collect();
//! let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
//! assert_eq!(total, 285);
//! ```
//!
//! See the guide in `docs/` for the full tour.
#![deny(unsafe_op_in_unsafe_fn)]

#[doc(hidden)]
pub use may_core::__private;

pub use may_macros::{coroutine, go, join, main, select, select_biased, test};

#[doc(inline)]
pub use may_core::{
    config, coroutine, coroutine_local, future, io, net, os, runtime, select, Config, ConfigError,
};

/// Synchronisation primitives and channels that work from coroutines and plain threads alike
/// (see docs/sync.md).
pub mod sync {
    #[doc(inline)]
    pub use may_core::sync::*;

    /// Multi-producer multi-consumer channels with crossbeam-channel's API, including its
    /// `select!` and `select_biased!` macros, so that `use may::sync::mpmc as crossbeam_channel;`
    /// is all a port needs (see docs/sync.md).
    pub mod mpmc {
        #[doc(no_inline)]
        pub use may_core::select::{
            ReadyTimeoutError, Select, SelectTimeoutError, SelectedOperation, TryReadyError,
            TrySelectError,
        };
        #[doc(inline)]
        pub use may_core::sync::mpmc::*;
        pub use may_macros::{select, select_biased};
    }
}

/// The guide (docs/guide.md): from a first coroutine to a TCP server with timeouts, select and
/// cancellation. Its code blocks run as doc tests.
#[doc = include_str!("../../docs/guide.md")]
pub mod guide {}

/// docs/net.md's examples, compiled (and, but for servers, run) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/net.md")]
pub struct NetDoctests;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
