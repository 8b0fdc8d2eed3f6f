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

#[doc(inline)]
pub use may_core::{
    config, coroutine, coroutine_local, io, net, os, runtime, select, sync, Config, ConfigError,
};
