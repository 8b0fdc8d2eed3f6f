//! `TcpListener`: accepting TCP connections.

use std::io;
use std::net::{self, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use socket2::{Domain, Protocol, Type};

use super::backoff::AcceptBackoff;
use super::{addr, duplicate, force_nonblocking, impl_as_fd, unwrap_io, TcpStream};
use crate::io::{impl_wait_ready, never_drained};
use crate::reactor::{Direction, Io};
use crate::sys::{self, PortSharing};

/// The listen backlog (the kernel caps it at `net.core.somaxconn`).
const BACKLOG: i32 = 1024;

/// A TCP server socket, like [`std::net::TcpListener`]; `accept` parks the calling coroutine.
///
/// Listeners set `SO_REUSEADDR` on Unix (as std does; not on Windows, where it would let another
/// socket take the port over); [`TcpListener::bind_reuseport`] also sets `SO_REUSEPORT`, so that
/// several listeners (one per worker, or per process) share a port. An `accept` error such as
/// `EMFILE` (too many open files) is returned to the caller, and the listener keeps working once
/// descriptors are free again.
#[derive(Debug)]
pub struct TcpListener {
    io: Arc<Io<mio::net::TcpListener>>,
}

impl_as_fd!(TcpListener);
impl_wait_ready!(TcpListener, read);

impl TcpListener {
    /// Binds to `addr` (each resolved address is tried in turn) and listens.
    pub fn bind<A: ToSocketAddrs + Send>(addr: A) -> io::Result<TcpListener> {
        addr::each_addr(addr, |a| bind_one(a, PortSharing::Exclusive))
    }

    /// Like [`TcpListener::bind`], with `SO_REUSEPORT` set before binding. Windows has no
    /// `SO_REUSEPORT`: there this fails with `ErrorKind::Unsupported`.
    pub fn bind_reuseport<A: ToSocketAddrs + Send>(addr: A) -> io::Result<TcpListener> {
        addr::each_addr(addr, |a| bind_one(a, PortSharing::ReusePort))
    }

    /// Accepts a connection, parking the calling coroutine (or thread) until one arrives.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.io.with(Direction::Read, |l| l.accept())?;
        Ok((TcpStream::from_nonblocking(stream), peer))
    }

    /// Accepts a connection waiting now, without waiting: `ErrorKind::WouldBlock` when there
    /// is none (then [`TcpListener::readable`] waits for one).
    pub fn try_accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self
            .io
            .try_op(Direction::Read, |l| l.accept(), never_drained)?;
        Ok((TcpStream::from_nonblocking(stream), peer))
    }

    /// An endless iterator over accepted connections (each an `io::Result`) that backs off
    /// when the system runs out of descriptors or memory.
    ///
    /// After an `accept` error of that kind (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`), the
    /// error is handed out at once and the next accept waits first: 5 ms, twice as long after
    /// each further one, at most a second, reset by a success (what Go's `net/http` server
    /// does). So a loop that logs errors and goes on does not spin at 100% of a core while
    /// the condition lasts, and resumes within a second once it is over. The wait parks the
    /// coroutine (a cancellation point) or sleeps the thread. [`TcpListener::accept`] never
    /// waits so.
    ///
    /// ```no_run
    /// use may_core::net::TcpListener;
    ///
    /// let listener = TcpListener::bind("127.0.0.1:8080")?;
    /// for stream in listener.incoming() {
    ///     match stream {
    ///         Ok(stream) => drop(may_core::coroutine::spawn(move || drop(stream))),
    ///         Err(err) => eprintln!("accept: {err}"), // the next accept backs off if need be
    ///     }
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
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

    /// Sets the IP time-to-live of accepted sockets.
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

    /// A second handle to the same listener. Never fails; the `Result` mirrors std.
    pub fn try_clone(&self) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Arc::clone(&self.io),
        })
    }

    /// With `true`, `accept` returns `ErrorKind::WouldBlock` instead of waiting.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        self.io.set_nonblocking(nonblocking);
        Ok(())
    }

    /// Turns this into a blocking std listener (a non-blocking duplicate if clones are alive).
    pub fn into_std(self) -> io::Result<net::TcpListener> {
        let dup =
            |l: &mio::net::TcpListener| duplicate(l, |s| mio::net::TcpListener::from_std(s.into()));
        let (listener, unique) = unwrap_io(self.io, dup)?;
        let listener: net::TcpListener = listener.into();
        if unique {
            listener.set_nonblocking(false)?;
        }
        Ok(listener)
    }
}

impl From<net::TcpListener> for TcpListener {
    /// Adopts a std listener (switching it to non-blocking mode).
    fn from(listener: net::TcpListener) -> TcpListener {
        force_nonblocking(&listener);
        TcpListener {
            io: Arc::new(Io::new(mio::net::TcpListener::from_std(listener))),
        }
    }
}

fn bind_one(addr: &SocketAddr, sharing: PortSharing) -> io::Result<TcpListener> {
    let socket = sys::nonblocking_socket(
        Domain::for_address(*addr),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    sys::set_listener_options(&socket, sharing)?;
    socket.bind(&(*addr).into())?;
    socket.listen(BACKLOG)?;
    let listener: net::TcpListener = socket.into();
    Ok(TcpListener {
        io: Arc::new(Io::new(mio::net::TcpListener::from_std(listener))),
    })
}

/// The iterator of [`TcpListener::incoming`]: accepts, backing off after resource errors.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    backoff: AcceptBackoff,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        self.backoff.pause();
        let accepted = self.listener.accept().map(|(stream, _)| stream);
        self.backoff.record(&accepted);
        Some(accepted)
    }
}
