//! Sockets on Windows: handles, non-blocking creation, listener options, `WSAPoll` on one
//! socket, and what the reactor needs of a source (mio's AFD-based backend).

use std::io;
use std::os::windows::io::{AsRawSocket, RawSocket};

use socket2::{Domain, Protocol, Socket, Type};

use crate::sys::{PollFor, PortSharing};
use windows_sys::Win32::Networking::WinSock::{
    WSAGetLastError, WSAPoll, POLLRDNORM, POLLWRNORM, SOCKET, SOCKET_ERROR, WSAEMFILE, WSAENOBUFS,
    WSAPOLLFD,
};

/// What a socket is to the OS: a socket handle.
pub(crate) type RawSource = RawSocket;

/// A socket as a number (for the runtime's dump).
pub(crate) fn source_number(socket: RawSource) -> u64 {
    socket
}

/// A new socket in non-blocking mode (and not inherited by child processes).
pub(crate) fn nonblocking_socket(
    domain: Domain,
    ty: Type,
    protocol: Option<Protocol>,
) -> io::Result<Socket> {
    let socket = Socket::new(domain, ty, protocol)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Whether a non-blocking `connect` answered that it goes on in the background
/// (`WSAEWOULDBLOCK`).
pub(crate) fn connect_in_progress(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::WouldBlock
}

/// Whether an `accept` failed for lack of sockets or buffer memory (`WSAEMFILE`,
/// `WSAENOBUFS`): the connection stays queued, and accepting again at once fails again.
pub(crate) fn out_of_resources(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(WSAEMFILE | WSAENOBUFS))
}

/// Sets a listening socket's options before `bind`. Nothing by default: on Windows
/// `SO_REUSEADDR` would let another socket take over the port (std does not set it either), and
/// `SO_REUSEPORT` does not exist.
pub(crate) fn set_listener_options(_socket: &Socket, sharing: PortSharing) -> io::Result<()> {
    if sharing == PortSharing::ReusePort {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "SO_REUSEPORT does not exist on Windows: bind one listener and share it with \
             try_clone",
        ));
    }
    Ok(())
}

/// Waits in `WSAPoll` until `socket` is readable or writable, as `what` says, at most
/// `timeout_ms` milliseconds (-1: no limit). False when the time ran out first.
pub(crate) fn poll_one(socket: RawSource, what: PollFor, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = WSAPOLLFD {
        fd: socket as SOCKET,
        events: match what {
            PollFor::Readable => POLLRDNORM,
            PollFor::Writable => POLLWRNORM,
        },
        revents: 0,
    };
    // SAFETY: `pfd` is a valid, exclusively borrowed array of length 1.
    let n = unsafe { WSAPoll(&mut pfd, 1, timeout_ms) };
    if n == SOCKET_ERROR {
        // SAFETY: no preconditions; reads this thread's last socket error.
        return Err(io::Error::from_raw_os_error(unsafe { WSAGetLastError() }));
    }
    Ok(n > 0)
}

/// What the reactor needs of an I/O source here. mio's Windows backend registers the mio value
/// itself, and reports a direction ready only once: it polls for it again when an operation run
/// through [`Source::try_io`] returns `WouldBlock`. So every operation on a registered source
/// goes through `try_io`.
pub(crate) trait Source: mio::event::Source + AsRawSocket {
    /// Runs one operation on the source, re-arming its readiness on `WouldBlock`.
    fn try_io<R>(&self, op: impl FnOnce() -> io::Result<R>) -> io::Result<R>;
}

impl Source for mio::net::TcpStream {
    fn try_io<R>(&self, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        mio::net::TcpStream::try_io(self, op)
    }
}

impl Source for mio::net::UdpSocket {
    fn try_io<R>(&self, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        mio::net::UdpSocket::try_io(self, op)
    }
}

impl Source for mio::net::TcpListener {
    /// mio's listener has no `try_io`; its only waiting operation, `accept`, re-arms itself.
    fn try_io<R>(&self, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        op()
    }
}

/// The local and peer addresses of the socket numbered `number` (see [`source_number`]), for a
/// dump; `None` for what has no such address or was closed meanwhile.
pub(crate) fn socket_addresses(
    number: u64,
) -> (Option<std::net::SocketAddr>, Option<std::net::SocketAddr>) {
    use windows_sys::Win32::Networking::WinSock::{getpeername, getsockname, SOCKADDR};
    let Ok(socket) = SOCKET::try_from(number) else {
        return (None, None);
    };
    type GetName = unsafe extern "system" fn(SOCKET, *mut SOCKADDR, *mut i32) -> i32;
    let name = |get: GetName| {
        // SAFETY: `try_init` hands the call zeroed storage and its size; the call writes at
        // most that much and the resulting length. On a handle that is not an open socket the
        // call just fails.
        let named = unsafe {
            socket2::SockAddr::try_init(|storage, len| {
                if get(socket, storage.cast(), len) == SOCKET_ERROR {
                    Err(io::Error::from_raw_os_error(WSAGetLastError()))
                } else {
                    Ok(())
                }
            })
        };
        named.ok().and_then(|((), addr)| addr.as_socket())
    };
    (name(getsockname), name(getpeername))
}
