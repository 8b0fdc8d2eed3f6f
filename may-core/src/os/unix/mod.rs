//! Unix-only items: Unix domain sockets, built like their TCP/UDP twins in `crate::net` (same
//! `Io` wrapper, same timeouts and clone semantics).

mod datagram;
mod listener;
mod stream;

/// Coroutine-aware Unix domain sockets with `std::os::unix::net`'s signatures.
pub mod net {
    pub use super::datagram::UnixDatagram;
    pub use super::listener::{Incoming, UnixListener};
    pub use super::stream::UnixStream;
}

/// Every Unix socket type can move to and be shared with other coroutines and threads.
const _: () = {
    const fn check<T: Send + Sync>() {}
    check::<net::UnixListener>();
    check::<net::UnixStream>();
    check::<net::UnixDatagram>();
};
