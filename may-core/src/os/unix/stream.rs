//! `UnixStream`: a connected Unix stream socket.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use crate::io::{impl_try_stream_io, impl_wait_ready};
use crate::net::{force_nonblocking, impl_as_fd, impl_stream_io, unwrap_io};
use crate::reactor::{Direction, Io};

/// A Unix stream socket, like [`std::os::unix::net::UnixStream`], whose blocking operations
/// park the calling coroutine.
///
/// ```
/// use std::io::{Read, Write};
/// use may_core::os::unix::net::UnixStream;
///
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"hi")?;
/// let mut buf = [0; 2];
/// b.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"hi");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UnixStream {
    io: Arc<Io<net::UnixStream>>,
}

impl_stream_io!(UnixStream);
impl_as_fd!(UnixStream);
impl_try_stream_io!(UnixStream);
impl_wait_ready!(UnixStream, read, writable);

impl UnixStream {
    pub(crate) fn from_nonblocking(stream: net::UnixStream) -> UnixStream {
        UnixStream {
            io: Arc::new(Io::new(stream)),
        }
    }

    /// Connects to the socket at `path`.
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        if !crate::task::in_task() {
            let stream = net::UnixStream::connect(path)?;
            stream.set_nonblocking(true)?;
            return Ok(UnixStream::from_nonblocking(stream));
        }
        let addr = SockAddr::unix(path)?;
        let socket = crate::sys::nonblocking_socket(Domain::UNIX, Type::STREAM, None)?;
        match socket.connect(&addr) {
            Ok(()) => {}
            // A full backlog: the connect did not start; wait until the listener drains it.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return connect_retry(socket, &addr);
            }
            Err(e) if crate::sys::connect_in_progress(&e) => {}
            Err(e) => return Err(e),
        }
        let stream: net::UnixStream = socket.into();
        let stream = UnixStream::from_nonblocking(stream);
        stream
            .io
            .with(Direction::Write, |s| match s.take_error()? {
                Some(err) => Err(err),
                None => Ok(()),
            })?;
        Ok(stream)
    }

    /// A connected pair of sockets.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((
            UnixStream::from_nonblocking(a),
            UnixStream::from_nonblocking(b),
        ))
    }

    /// A second handle to the same socket. Never fails; the `Result` mirrors std.
    pub fn try_clone(&self) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Arc::clone(&self.io),
        })
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Sets the read timeout (a timed-out read fails with `ErrorKind::WouldBlock`).
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

    /// Receives data without removing it from the queue.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.with(Direction::Read, |s| {
            socket2::SockRef::from(s).peek(as_uninit(buf))
        })
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

    /// Turns this into a blocking std stream (a non-blocking duplicate if clones are alive).
    pub fn into_std(self) -> io::Result<net::UnixStream> {
        let (stream, unique) = unwrap_io(self.io, net::UnixStream::try_clone)?;
        if unique {
            stream.set_nonblocking(false)?;
        }
        Ok(stream)
    }
}

impl From<net::UnixStream> for UnixStream {
    /// Adopts a std stream (switching it to non-blocking mode).
    fn from(stream: net::UnixStream) -> UnixStream {
        force_nonblocking(&stream);
        UnixStream::from_nonblocking(stream)
    }
}

/// Views an initialised buffer as the `MaybeUninit` slice socket2's receive calls take.
pub(crate) fn as_uninit(buf: &mut [u8]) -> &mut [std::mem::MaybeUninit<u8>] {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the callee only writes initialised
    // bytes into it, so the slice stays initialised when viewed as `[u8]` again.
    unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) }
}

/// Retries a connect refused with `EAGAIN` (full backlog) every millisecond for up to a
/// second, parking the coroutine in between.
fn connect_retry(socket: Socket, addr: &SockAddr) -> io::Result<UnixStream> {
    for _ in 0..1000 {
        crate::wait::sleep(Duration::from_millis(1));
        match socket.connect(addr) {
            Ok(()) => {
                let stream: net::UnixStream = socket.into();
                return Ok(UnixStream::from_nonblocking(stream));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "the listener's backlog stayed full",
    ))
}
