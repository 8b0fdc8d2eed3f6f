//! `crossbeam_channel`, as far as its own test suite sees it, provided by may.
//!
//! Everything comes from `may::sync::mpmc`, which has crossbeam-channel's API: the channel
//! constructors and ends, the iterators, `Select`/`SelectedOperation`, every error type, and
//! the `select!`/`select_biased!` macros. The one addition is `crossbeam_channel_internal!`,
//! the hidden macro behind crossbeam's `select!` that the upstream `tests/mpsc.rs` calls
//! directly to build a std-style `select!`; here it forwards to may's `select!`.

pub use may::sync::mpmc::*;

/// crossbeam-channel's hidden `select!` engine; the upstream tests invoke it directly with
/// ordinary `recv`/`send`/`default` branches, which may's `select!` accepts as they are.
#[doc(hidden)]
#[macro_export]
macro_rules! crossbeam_channel_internal {
    ($($tokens:tt)*) => {
        $crate::select! { $($tokens)* }
    };
}
