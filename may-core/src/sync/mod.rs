//! Synchronisation primitives and channels that work from coroutines and plain threads alike.
//!
//! Blocking parks the calling coroutine (its worker keeps running others) or, on a plain
//! thread, parks the thread. See docs/sync.md for which primitive to use for what.
