//! Sockets on Unix: descriptors, non-blocking creation, listener options and `poll(2)` on one
//! descriptor.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};

use crate::sys::{PollFor, PortSharing};

use super::cvt;

/// What a socket or descriptor is to the OS: a file descriptor.
pub(crate) type RawSource = RawFd;

/// A descriptor as a number (for the runtime's dump).
pub(crate) fn source_number(fd: RawSource) -> u64 {
    u64::try_from(fd).unwrap_or(u64::MAX)
}

/// A new socket in non-blocking mode (and close-on-exec).
pub(crate) fn nonblocking_socket(
    domain: Domain,
    ty: Type,
    protocol: Option<Protocol>,
) -> io::Result<Socket> {
    // One system call where the kernel takes the flag with the type.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        Socket::new(domain, ty.nonblocking(), protocol)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        let socket = Socket::new(domain, ty, protocol)?;
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// Whether a non-blocking `connect` answered that it goes on in the background.
pub(crate) fn connect_in_progress(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EINPROGRESS)
}

/// Whether an `accept` failed for lack of descriptors or memory (`EMFILE`, `ENFILE`,
/// `ENOBUFS`, `ENOMEM`): the connection stays queued, and accepting again at once fails again.
pub(crate) fn out_of_resources(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Sets a listening socket's options before `bind`: `SO_REUSEADDR` (as std does on Unix) and,
/// if asked, `SO_REUSEPORT`.
pub(crate) fn set_listener_options(socket: &Socket, sharing: PortSharing) -> io::Result<()> {
    socket.set_reuse_address(true)?;
    if sharing == PortSharing::ReusePort {
        socket.set_reuse_port(true)?;
    }
    Ok(())
}

/// Waits in `poll(2)` until `fd` is readable or writable, as `what` says, at most `timeout_ms`
/// milliseconds (-1: no limit). False when the time ran out first.
pub(crate) fn poll_one(fd: RawSource, what: PollFor, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: match what {
            PollFor::Readable => libc::POLLIN,
            PollFor::Writable => libc::POLLOUT,
        },
        revents: 0,
    };
    // SAFETY: `pfd` is a valid, exclusively borrowed pollfd array of length 1.
    let n = cvt(unsafe { libc::poll(&mut pfd, 1, timeout_ms) })?;
    Ok(n > 0)
}

/// What the reactor needs of an I/O source here: its descriptor, which it registers with
/// `mio::unix::SourceFd`; operations on the source need no help from the reactor.
pub(crate) trait Source: AsRawFd {
    /// Runs one operation on the source.
    #[inline(always)]
    fn try_io<R>(&self, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        op()
    }
}

impl<T: AsRawFd> Source for T {}

/// The local and peer addresses of the socket numbered `number` (see [`source_number`]), for a
/// dump; `None` for what is not an IP socket (a pipe, a Unix socket), has no peer, or was
/// closed meanwhile.
pub(crate) fn socket_addresses(
    number: u64,
) -> (Option<std::net::SocketAddr>, Option<std::net::SocketAddr>) {
    let Ok(fd) = RawFd::try_from(number) else {
        return (None, None);
    };
    type GetName =
        unsafe extern "C" fn(RawFd, *mut libc::sockaddr, *mut libc::socklen_t) -> libc::c_int;
    let name = |get: GetName| {
        // SAFETY: `try_init` hands the call zeroed storage and its size; the call writes at
        // most that much and the resulting length. On an fd that is not an open socket the
        // call just fails.
        let named = unsafe {
            socket2::SockAddr::try_init(|storage, len| cvt(get(fd, storage.cast(), len)).map(drop))
        };
        named.ok().and_then(|((), addr)| addr.as_socket())
    };
    (name(libc::getsockname), name(libc::getpeername))
}
