//! Selection over several blocking operations.
//!
//! [`Select`] is the dynamic form, with the API of crossbeam-channel's `Select`: add send and
//! receive operations on [`mpmc`](crate::sync::mpmc) channels and timers, then block until one
//! of them can proceed, and complete it through the returned [`SelectedOperation`]. One waiter
//! is registered on every channel involved (see `sync/mpmc/select_handle.rs` for the protocol), so nothing is
//! spawned and no message is ever lost. It works from coroutines and plain threads; a cancelled
//! coroutine blocked in a selection unwinds. See docs/select.md.

#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __macro_support;
mod error;
mod rand;
#[allow(clippy::module_inception)]
mod select;
mod selected;

pub use error::{ReadyTimeoutError, SelectTimeoutError, TryReadyError, TrySelectError};
pub use select::Select;
pub use selected::SelectedOperation;
