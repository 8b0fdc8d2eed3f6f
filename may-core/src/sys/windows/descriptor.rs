//! Any socket as a non-blocking source for `CoIo`.
//!
//! mio's Windows backend registers only its own socket types, so the socket is viewed as a
//! `mio::net::TcpStream` that never closes it (its owner does). Reads and writes are `recv` and
//! `send` (`WSARecv`/`WSASend` for the vectored ones), which serve any connected socket. Windows
//! cannot tell whether a socket was non-blocking before, so [`Descriptor::restore`] leaves it
//! blocking, the mode sockets are created in.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::ManuallyDrop;
use std::os::windows::io::{AsRawSocket, FromRawSocket, RawSocket};

use mio::{event, Interest, Registry, Token};
use socket2::SockRef;

use super::net::Source;

/// What `CoIo` accepts: anything that owns a socket.
pub(crate) use std::os::windows::io::AsSocket as AsDescriptor;

/// A view of a socket owned by someone else, in non-blocking mode while the view lives.
#[derive(Debug)]
pub(crate) struct Descriptor {
    /// # Invariant
    /// Never dropped: that would close the owner's socket.
    view: ManuallyDrop<mio::net::TcpStream>,
}

impl Descriptor {
    /// Switches `owner`'s socket to non-blocking mode and views it.
    ///
    /// # Safety
    /// The view is used no longer than `owner` keeps the socket open.
    pub(crate) unsafe fn new<T: AsDescriptor>(owner: &T) -> io::Result<Descriptor> {
        SockRef::from(owner).set_nonblocking(true)?;
        let raw = owner.as_socket().as_raw_socket();
        // SAFETY: the view shares the owner's open socket, never closes it (see the field's
        // invariant) and is used no longer than the owner keeps it open (guaranteed by the
        // caller).
        let view = ManuallyDrop::new(unsafe { mio::net::TcpStream::from_raw_socket(raw) });
        Ok(Descriptor { view })
    }

    /// Switches the socket back to blocking mode, and ends the view (not the socket).
    pub(crate) fn restore(self) -> io::Result<()> {
        SockRef::from(&*self.view).set_nonblocking(false)
    }

    /// `recv`.
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.view).read(buf)
    }

    /// `send`.
    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        (&*self.view).write(buf)
    }

    /// `WSARecv` into several buffers.
    pub(crate) fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self.view).read_vectored(bufs)
    }

    /// `WSASend` from several buffers.
    pub(crate) fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self.view).write_vectored(bufs)
    }
}

impl AsRawSocket for Descriptor {
    fn as_raw_socket(&self) -> RawSocket {
        self.view.as_raw_socket()
    }
}

impl event::Source for Descriptor {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.view.register(registry, token, interest)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.view.reregister(registry, token, interest)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.view.deregister(registry)
    }
}

impl Source for Descriptor {
    fn try_io<R>(&self, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.view.try_io(op)
    }
}
