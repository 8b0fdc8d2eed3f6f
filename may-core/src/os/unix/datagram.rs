//! `UnixDatagram`: datagrams over Unix domain sockets.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::io::{impl_wait_ready, never_drained};
use crate::net::{force_nonblocking, impl_as_fd, unwrap_io};
use crate::reactor::{Direction, Io};

/// A Unix datagram socket, like [`std::os::unix::net::UnixDatagram`]; receiving (and sending
/// into a full queue) parks the calling coroutine.
///
/// ```
/// use may_core::os::unix::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"one")?;
/// let mut buf = [0; 8];
/// assert_eq!(b.recv(&mut buf)?, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    io: Arc<Io<net::UnixDatagram>>,
}

impl_as_fd!(UnixDatagram);
impl_wait_ready!(UnixDatagram, read, writable);

impl UnixDatagram {
    fn wrap(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: Arc::new(Io::new(socket)),
        })
    }

    /// Binds to `path`.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram::wrap(a)?, UnixDatagram::wrap(b)?))
    }

    /// Sets the default peer.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.io.get().connect(path)
    }

    /// Sends `buf` to the socket at `path`.
    pub fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.with(Direction::Write, |s| s.send_to(buf, path))
    }

    /// Receives one datagram and its source address.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.with(Direction::Read, |s| s.recv_from(buf))
    }

    /// Sends `buf` to the connected peer.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.with(Direction::Write, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.with(Direction::Read, |s| s.recv(buf))
    }

    /// Receives one datagram without removing it from the queue.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.with(Direction::Read, |s| {
            socket2::SockRef::from(s).peek(super::stream::as_uninit(buf))
        })
    }

    /// Receives one datagram and its source address if one is queued, without waiting:
    /// `ErrorKind::WouldBlock` when none is (then [`UnixDatagram::readable`] waits for one).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_op(Direction::Read, |s| s.recv_from(buf), never_drained)
    }

    /// Receives one datagram from the connected peer if one is queued, without waiting.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_op(Direction::Read, |s| s.recv(buf), never_drained)
    }

    /// Sends `buf` to the socket at `path` if there is room, without waiting:
    /// `ErrorKind::WouldBlock` when there is none (then [`UnixDatagram::writable`] waits).
    pub fn try_send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .try_op(Direction::Write, |s| s.send_to(buf, path), never_drained)
    }

    /// Sends `buf` to the connected peer if there is room, without waiting.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_op(Direction::Write, |s| s.send(buf), never_drained)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// A second handle to the same socket. Never fails; the `Result` mirrors std.
    pub fn try_clone(&self) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Arc::clone(&self.io),
        })
    }

    /// Sets the read timeout (a timed-out receive fails with `ErrorKind::WouldBlock`).
    pub fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        self.io.set_timeout(Direction::Read, dur)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        self.io.set_timeout(Direction::Write, dur)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.io.timeout(Direction::Read))
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.io.timeout(Direction::Write))
    }

    /// Shuts down the read half, the write half or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// Takes the pending `SO_ERROR`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get().take_error()
    }

    /// With `true`, operations that would wait return `ErrorKind::WouldBlock` instead.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.io.set_nonblocking(nonblocking);
        Ok(())
    }

    /// Turns this into a blocking std socket (a non-blocking duplicate if clones are alive).
    pub fn into_std(self) -> io::Result<net::UnixDatagram> {
        let (socket, unique) = unwrap_io(self.io, net::UnixDatagram::try_clone)?;
        if unique {
            socket.set_nonblocking(false)?;
        }
        Ok(socket)
    }
}

impl From<net::UnixDatagram> for UnixDatagram {
    /// Adopts a std socket (switching it to non-blocking mode).
    fn from(socket: net::UnixDatagram) -> UnixDatagram {
        force_nonblocking(&socket);
        UnixDatagram {
            io: Arc::new(Io::new(socket)),
        }
    }
}
