//! The few calls that differ per operating system, behind one contract.
//!
//! Every backend provides the same items: the page size, the memory mappings coroutine stacks
//! are carved from (reserve, guard pages, releasing pages), and the fault handler that turns a
//! guard-page hit into a clear stack-overflow report. Everything above this module is portable;
//! raw OS calls live only here (like mio's `sys/`).

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as imp;

#[cfg(not(unix))]
compile_error!("may supports Unix-like systems (Linux, macOS); other targets are not ported yet");

pub(crate) use imp::memory::{install_guard, page_size, release_pages, Mapping};
pub(crate) use imp::signal::{abort, ensure_alt_stack, install_fault_handler, write_stderr};
