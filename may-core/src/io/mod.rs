//! Coroutine-aware I/O on any file descriptor (any socket on Windows).
//!
//! [`CoIo`] wraps anything that owns a descriptor (a pipe end, stdin, an eventfd, a tty, a
//! character device, a socket) and gives it `Read` and `Write` that park the calling coroutine
//! while the descriptor is not ready, through the same reactor as the sockets of `may::net`.
//!
//! On Windows the reactor (mio's AFD-based backend) watches sockets only, so `CoIo` takes
//! anything that owns a socket (`AsSocket`); pipes, consoles and files are not supported there.

mod ready;

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};

use crate::reactor::{Direction, Io};
use crate::sys::{AsDescriptor, Descriptor};

pub(crate) use ready::{impl_try_stream_io, impl_wait_ready, never_drained};

/// Coroutine-aware `Read` and `Write` for any descriptor (`AsFd`); on Windows for any socket
/// (`AsSocket`).
///
/// [`CoIo::new`] puts the descriptor into non-blocking mode (the flag belongs to the open file,
/// so it is shared with every other descriptor of it: mind this for stdin and ttys inherited
/// from a shell) and [`CoIo::into_inner`] restores the original mode (on Windows, which cannot
/// tell what it was, the blocking mode sockets are created in). Regular files are always
/// "ready", so reading them still blocks the worker: use `spawn_blocking` for file I/O.
///
/// ```
/// use std::io::{Read, Write};
/// use may_core::io::CoIo;
///
/// // Any descriptor works; a connected pair of sockets stands in for a pipe here.
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let writer = std::net::TcpStream::connect(listener.local_addr()?)?;
/// let (reader, _) = listener.accept()?;
/// let mut reader = CoIo::new(reader)?;
/// let mut writer = CoIo::new(writer)?;
/// writer.write_all(b"through a socket")?;
/// drop(writer);
/// let mut text = String::new();
/// reader.read_to_string(&mut text)?;
/// assert_eq!(text, "through a socket");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct CoIo<T: AsDescriptor> {
    /// # Invariant
    /// A view of `owner`'s descriptor: declared first, so dropped (deregistered) before `owner`
    /// closes the descriptor, and never moved out without `owner`.
    io: Io<Descriptor>,
    owner: T,
}

impl<T: AsDescriptor> CoIo<T> {
    /// Wraps `inner`, switching its descriptor to non-blocking mode.
    pub fn new(inner: T) -> io::Result<CoIo<T>> {
        // SAFETY: the view lives in the `CoIo` next to its owner, which outlives it (see the
        // field's invariant).
        let descriptor = unsafe { Descriptor::new(&inner)? };
        Ok(CoIo {
            io: Io::new(descriptor),
            owner: inner,
        })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.owner
    }

    /// Unwraps the value, restoring its descriptor's original blocking mode.
    pub fn into_inner(self) -> io::Result<T> {
        let CoIo { io, owner } = self;
        io.into_inner().restore()?;
        Ok(owner)
    }

    /// Sets the read timeout (a timed-out read fails with `ErrorKind::WouldBlock`).
    pub fn set_read_timeout(&self, dur: Option<std::time::Duration>) -> io::Result<()> {
        self.io.set_timeout(Direction::Read, dur)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, dur: Option<std::time::Duration>) -> io::Result<()> {
        self.io.set_timeout(Direction::Write, dur)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<std::time::Duration>> {
        Ok(self.io.timeout(Direction::Read))
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> io::Result<Option<std::time::Duration>> {
        Ok(self.io.timeout(Direction::Write))
    }

    /// Reads what is there without waiting: `Ok(0)` at the end, `ErrorKind::WouldBlock` when
    /// nothing is there now (then [`CoIo::readable`] waits for more).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .try_op(Direction::Read, |fd| fd.read(buf), never_drained)
    }

    /// Writes what fits without waiting (possibly less than `buf`): `ErrorKind::WouldBlock`
    /// when nothing fits now (then [`CoIo::writable`] waits for room).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_op(Direction::Write, |fd| fd.write(buf), never_drained)
    }
}

impl_wait_ready!(CoIo<T: AsDescriptor>, read, writable);

impl<T: AsDescriptor> fmt::Debug for CoIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoIo").field("fd", &self.io.raw()).finish()
    }
}

impl<T: AsDescriptor> Read for &CoIo<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.with(Direction::Read, |fd| fd.read(buf))
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.with(Direction::Read, |fd| fd.read_vectored(bufs))
    }
}

impl<T: AsDescriptor> Write for &CoIo<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.with(Direction::Write, |fd| fd.write(buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.with(Direction::Write, |fd| fd.write_vectored(bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<T: AsDescriptor> Read for CoIo<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl<T: AsDescriptor> Write for CoIo<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self).write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
impl<T: AsDescriptor> std::os::fd::AsFd for CoIo<T> {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.owner.as_fd()
    }
}

#[cfg(unix)]
impl<T: AsDescriptor> std::os::fd::AsRawFd for CoIo<T> {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.raw()
    }
}

#[cfg(windows)]
impl<T: AsDescriptor> std::os::windows::io::AsSocket for CoIo<T> {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        self.owner.as_socket()
    }
}

#[cfg(windows)]
impl<T: AsDescriptor> std::os::windows::io::AsRawSocket for CoIo<T> {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        self.io.raw()
    }
}

/// A `CoIo` of a `Send + Sync` descriptor can move to and be shared with other coroutines and
/// threads.
const _: () = {
    const fn check<T: Send + Sync>() {}
    #[cfg(unix)]
    check::<CoIo<std::os::fd::OwnedFd>>();
    #[cfg(windows)]
    check::<CoIo<std::os::windows::io::OwnedSocket>>();
};
