//! `UnixListener`: accepting Unix stream connections.

use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use super::stream::UnixStream;
use crate::net::{force_nonblocking, impl_as_fd, unwrap_io};
use crate::reactor::{Direction, Io};

/// A Unix stream server socket, like [`std::os::unix::net::UnixListener`]; `accept` parks the
/// calling coroutine.
#[derive(Debug)]
pub struct UnixListener {
    io: Arc<Io<net::UnixListener>>,
}

impl_as_fd!(UnixListener);

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

    /// An endless iterator over accepted connections.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
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

/// The iterator of [`UnixListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn next(&mut self) -> Option<io::Result<UnixStream>> {
        Some(self.listener.accept().map(|(stream, _)| stream))
    }
}
