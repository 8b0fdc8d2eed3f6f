//! `TcpStream`: a connected TCP socket.

use std::io;
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockRef, Type};

use super::{addr, duplicate, force_nonblocking, impl_as_fd, impl_stream_io, unwrap_io};
use crate::io::{impl_try_stream_io, impl_wait_ready};
use crate::reactor::{Direction, Io};
use crate::sys;

/// A TCP stream between a local and a remote socket, like [`std::net::TcpStream`], whose
/// blocking operations park the calling coroutine instead of its worker thread.
///
/// Reading and writing work through `&TcpStream` too, and [`TcpStream::try_clone`] gives a
/// second handle to the same socket, so one coroutine can read while another writes.
///
/// ```no_run
/// use std::io::{Read, Write};
/// use may_core::net::TcpStream;
///
/// let mut stream = TcpStream::connect("127.0.0.1:8080")?;
/// stream.write_all(b"ping")?;
/// let mut buf = [0; 4];
/// stream.read_exact(&mut buf)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpStream {
    io: Arc<Io<mio::net::TcpStream>>,
}

impl_stream_io!(TcpStream);
impl_as_fd!(TcpStream);
impl_try_stream_io!(TcpStream);
impl_wait_ready!(TcpStream, read, writable);

impl TcpStream {
    /// Wraps a stream that is already non-blocking.
    pub(crate) fn from_nonblocking(stream: mio::net::TcpStream) -> TcpStream {
        TcpStream {
            io: Arc::new(Io::new(stream)),
        }
    }

    /// Opens a TCP connection to `addr`, trying each resolved address in turn. Names are
    /// resolved on the blocking pool when called from a coroutine.
    pub fn connect<A: ToSocketAddrs + Send>(addr: A) -> io::Result<TcpStream> {
        if !crate::task::in_task() {
            let stream = net::TcpStream::connect(addr)?;
            stream.set_nonblocking(true)?;
            return Ok(TcpStream::from_nonblocking(mio::net::TcpStream::from_std(
                stream,
            )));
        }
        addr::each_addr(addr, |a| connect_one(a, None))
    }

    /// Opens a TCP connection to `addr`, failing with `ErrorKind::TimedOut` after `timeout`.
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        if !crate::task::in_task() {
            let stream = net::TcpStream::connect_timeout(addr, timeout)?;
            stream.set_nonblocking(true)?;
            return Ok(TcpStream::from_nonblocking(mio::net::TcpStream::from_std(
                stream,
            )));
        }
        connect_one(addr, Instant::now().checked_add(timeout))
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Shuts down the read half, the write half or both (a half-close sends FIN).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// A second handle to the same socket (options and timeouts are shared, as with std's
    /// duplicated descriptor). Never fails; the `Result` mirrors std.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Arc::clone(&self.io),
        })
    }

    /// Sets the read timeout; a timed-out read fails with `ErrorKind::WouldBlock`.
    /// `Some(Duration::ZERO)` is an `InvalidInput` error, as in std.
    pub fn set_read_timeout(&self, dur: Option<Duration>) -> io::Result<()> {
        self.io.set_timeout(Direction::Read, dur)
    }

    /// Sets the write timeout; a timed-out write fails with `ErrorKind::WouldBlock`.
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
        self.io.with(Direction::Read, |s| s.peek(buf))
    }

    /// Sets `TCP_NODELAY`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get().nodelay()
    }

    /// Sets `SO_LINGER`; `Some(Duration::ZERO)` makes `close` reset the connection.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self).set_linger(linger)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self).linger()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get().ttl()
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

    /// Turns this into a blocking std stream. If other clones of this handle are alive, the
    /// result is a duplicate descriptor that stays non-blocking (the flag is shared with them).
    pub fn into_std(self) -> io::Result<net::TcpStream> {
        let dup =
            |s: &mio::net::TcpStream| duplicate(s, |s| mio::net::TcpStream::from_std(s.into()));
        let (stream, unique) = unwrap_io(self.io, dup)?;
        let stream = net::TcpStream::from(stream);
        if unique {
            stream.set_nonblocking(false)?;
        }
        Ok(stream)
    }
}

impl From<net::TcpStream> for TcpStream {
    /// Adopts a std stream (switching it to non-blocking mode).
    fn from(stream: net::TcpStream) -> TcpStream {
        force_nonblocking(&stream);
        TcpStream::from_nonblocking(mio::net::TcpStream::from_std(stream))
    }
}

/// A non-blocking connect from a coroutine: start it, wait until writable, read `SO_ERROR`.
fn connect_one(addr: &SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
    let socket = sys::nonblocking_socket(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    match socket.connect(&(*addr).into()) {
        Ok(()) => {}
        Err(e) if sys::connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    let stream = TcpStream::from_nonblocking(mio::net::TcpStream::from_std(socket.into()));
    stream
        .io
        .with_deadline(Direction::Write, deadline, io::ErrorKind::TimedOut, |s| {
            connect_finished(s)
        })?;
    Ok(stream)
}

/// `Ok` once the connect completed, its error if it failed, `WouldBlock` while in progress.
pub(crate) fn connect_finished(s: &mio::net::TcpStream) -> io::Result<()> {
    if let Some(err) = s.take_error()? {
        return Err(err);
    }
    match s.peer_addr() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => connect_in_progress_or_reset(s),
        Err(e) => Err(e),
    }
}

/// No pending error and no peer: either the connect is still in progress, or it completed and
/// the connection was closed before we looked (the listener closed with it still queued). Linux
/// tells the second apart with a pending `ECONNRESET`; wine (and so possibly Windows) keeps no
/// error, and taken for "in progress" that connect waited for ever. A peek tells: in progress
/// it would block (or is "not connected"), closed it reads the end or the error.
fn connect_in_progress_or_reset(s: &mio::net::TcpStream) -> io::Result<()> {
    let mut byte = [0u8; 1];
    match s.peek(&mut byte) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "the connection was closed by its peer as it was made",
        )),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::NotConnected
            ) =>
        {
            Err(io::ErrorKind::WouldBlock.into())
        }
        Err(e) => Err(e),
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::io;
    use std::time::{Duration, Instant};

    use super::connect_finished;

    /// A connection the listener closed before accepting it reads as failed, not as a connect
    /// still in progress, even once its pending error was taken (as wine never sets one): taken
    /// for "in progress", the connect waited for ever.
    #[test]
    fn a_connection_reset_as_it_is_made_is_not_in_progress() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind on loopback");
        let stream = std::net::TcpStream::connect(listener.local_addr().expect("an address"))
            .expect("a queued connection");
        stream.set_nonblocking(true).expect("non-blocking");
        let stream = mio::net::TcpStream::from_std(stream);
        assert!(connect_finished(&stream).is_ok(), "connected while queued");
        drop(listener);
        let deadline = Instant::now() + Duration::from_secs(5);
        while stream.peer_addr().is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = stream.take_error();
        let outcome = connect_finished(&stream);
        assert_eq!(
            outcome.as_ref().map_err(io::Error::kind).err(),
            Some(io::ErrorKind::ConnectionReset),
            "{outcome:?}"
        );
    }
}
