//! `UnixListener`: accepting Unix stream connections.

use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use super::stream::UnixStream;
use crate::io::{impl_wait_ready, never_drained};
use crate::net::{force_nonblocking, impl_as_fd, unwrap_io, AcceptBackoff};
use crate::reactor::{Direction, Io};

/// A Unix stream server socket, like [`std::os::unix::net::UnixListener`]; `accept` parks the
/// calling coroutine.
#[derive(Debug)]
pub struct UnixListener {
    io: Arc<Io<net::UnixListener>>,
}

impl_as_fd!(UnixListener);
impl_wait_ready!(UnixListener, read);

impl UnixListener {
    /// Binds to `path` and listens.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let listener = net::UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: Arc::new(Io::new(listener)),
        })
    }

    /// Accepts a connection, parking the calling coroutine (or thread) until one arrives.
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self.io.with(Direction::Read, |l| l.accept())?;
        // Linux's accept does not inherit O_NONBLOCK.
        stream.set_nonblocking(true)?;
        Ok((UnixStream::from_nonblocking(stream), addr))
    }

    /// Accepts a connection waiting now, without waiting: `ErrorKind::WouldBlock` when there
    /// is none (then [`UnixListener::readable`] waits for one).
    pub fn try_accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .try_op(Direction::Read, |l| l.accept(), never_drained)?;
        stream.set_nonblocking(true)?;
        Ok((UnixStream::from_nonblocking(stream), addr))
    }

    /// An endless iterator over accepted connections that backs off when the system runs out
    /// of descriptors or memory, as [`crate::net::TcpListener::incoming`] does;
    /// [`UnixListener::accept`] never waits so.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            backoff: AcceptBackoff::new(),
        }
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Takes the pending `SO_ERROR`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get().take_error()
    }

    /// A second handle to the same listener. Never fails; the `Result` mirrors std.
    pub fn try_clone(&self) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Arc::clone(&self.io),
        })
    }

    /// With `true`, `accept` returns `ErrorKind::WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.io.set_nonblocking(nonblocking);
        Ok(())
    }

    /// Turns this into a blocking std listener (a non-blocking duplicate if clones are alive).
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        let (listener, unique) = unwrap_io(self.io, net::UnixListener::try_clone)?;
        if unique {
            listener.set_nonblocking(false)?;
        }
        Ok(listener)
    }
}

impl From<net::UnixListener> for UnixListener {
    /// Adopts a std listener (switching it to non-blocking mode).
    fn from(listener: net::UnixListener) -> UnixListener {
        force_nonblocking(&listener);
        UnixListener {
            io: Arc::new(Io::new(listener)),
        }
    }
}

/// The iterator of [`UnixListener::incoming`]: accepts, backing off after resource errors.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
    backoff: AcceptBackoff,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn next(&mut self) -> Option<io::Result<UnixStream>> {
        self.backoff.pause();
        let accepted = self.listener.accept().map(|(stream, _)| stream);
        self.backoff.record(&accepted);
        Some(accepted)
    }
}
