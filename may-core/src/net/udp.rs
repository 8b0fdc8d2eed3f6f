//! `UdpSocket`: datagrams over UDP.

use std::io;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use super::{addr, duplicate, force_nonblocking, impl_as_fd, unwrap_io};
use crate::io::{impl_wait_ready, never_drained};
use crate::reactor::{Direction, Io};

/// A UDP socket, like [`std::net::UdpSocket`]; receiving (and sending into a full buffer)
/// parks the calling coroutine.
///
/// ```no_run
/// use may_core::net::UdpSocket;
///
/// let socket = UdpSocket::bind("127.0.0.1:0")?;
/// let mut buf = [0; 1500];
/// let (n, peer) = socket.recv_from(&mut buf)?;
/// socket.send_to(&buf[..n], peer)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    io: Arc<Io<mio::net::UdpSocket>>,
}

impl_as_fd!(UdpSocket);
impl_wait_ready!(UdpSocket, read, writable);

impl UdpSocket {
    /// Binds to `addr` (each resolved address is tried in turn).
    pub fn bind<A: ToSocketAddrs + Send>(addr: A) -> io::Result<UdpSocket> {
        addr::each_addr(addr, |a| {
            let socket = net::UdpSocket::bind(a)?;
            socket.set_nonblocking(true)?;
            Ok(UdpSocket {
                io: Arc::new(Io::new(mio::net::UdpSocket::from_std(socket))),
            })
        })
    }

    /// Sets the default destination of `send` and the only source `recv` accepts.
    pub fn connect<A: ToSocketAddrs + Send>(&self, addr: A) -> io::Result<()> {
        addr::each_addr(addr, |a| self.io.get().connect(*a))
    }

    /// Sends `buf` to `target`; returns the number of bytes sent.
    pub fn send_to<A: ToSocketAddrs + Send>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = addr::resolve(target)?.into_iter().next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no addresses to send data to")
        })?;
        self.io.with(Direction::Write, |s| s.send_to(buf, target))
    }

    /// Receives one datagram and its source address.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.with(Direction::Read, |s| s.recv_from(buf))
    }

    /// Like `recv_from`, without removing the datagram from the queue.
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.with(Direction::Read, |s| s.peek_from(buf))
    }

    /// Sends `buf` to the connected peer.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.with(Direction::Write, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.with(Direction::Read, |s| s.recv(buf))
    }

    /// Like `recv`, without removing the datagram from the queue.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.with(Direction::Read, |s| s.peek(buf))
    }

    /// Receives one datagram and its source address if one is queued, without waiting:
    /// `ErrorKind::WouldBlock` when none is (then [`UdpSocket::readable`] waits for one).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_op(Direction::Read, |s| s.recv_from(buf), never_drained)
    }

    /// Receives one datagram from the connected peer if one is queued, without waiting:
    /// `ErrorKind::WouldBlock` when none is.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_op(Direction::Read, |s| s.recv(buf), never_drained)
    }

    /// Sends `buf` to `target` if the send buffer has room, without waiting:
    /// `ErrorKind::WouldBlock` when it has none (then [`UdpSocket::writable`] waits). The
    /// target is a socket address: a name lookup cannot be tried without waiting.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_op(Direction::Write, |s| s.send_to(buf, target), never_drained)
    }

    /// Sends `buf` to the connected peer if the send buffer has room, without waiting.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_op(Direction::Write, |s| s.send(buf), never_drained)
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// A second handle to the same socket. Never fails; the `Result` mirrors std.
    pub fn try_clone(&self) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
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

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get().broadcast()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get().ttl()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether multicast sent from here is looped back.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get().set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`, the time-to-live of outgoing IPv4 multicast.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get().set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL` setting.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get().multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`: whether IPv6 multicast sent from here is looped back.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get().set_multicast_loop_v6(on)
    }

    /// Whether `IPV6_MULTICAST_LOOP` is set.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get().multicast_loop_v6()
    }

    /// Joins an IPv4 multicast group.
    pub fn join_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.io.get().join_multicast_v4(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group.
    pub fn leave_multicast_v4(&self, multiaddr: &Ipv4Addr, interface: &Ipv4Addr) -> io::Result<()> {
        self.io.get().leave_multicast_v4(multiaddr, interface)
    }

    /// Joins an IPv6 multicast group.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get().leave_multicast_v6(multiaddr, interface)
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
    pub fn into_std(self) -> io::Result<net::UdpSocket> {
        let dup =
            |s: &mio::net::UdpSocket| duplicate(s, |s| mio::net::UdpSocket::from_std(s.into()));
        let (socket, unique) = unwrap_io(self.io, dup)?;
        let socket = net::UdpSocket::from(socket);
        if unique {
            socket.set_nonblocking(false)?;
        }
        Ok(socket)
    }
}

impl From<net::UdpSocket> for UdpSocket {
    /// Adopts a std socket (switching it to non-blocking mode).
    fn from(socket: net::UdpSocket) -> UdpSocket {
        force_nonblocking(&socket);
        UdpSocket {
            io: Arc::new(Io::new(mio::net::UdpSocket::from_std(socket))),
        }
    }
}
