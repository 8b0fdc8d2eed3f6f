//! Coroutine-aware I/O on any file descriptor.
//!
//! [`CoIo`] wraps anything that owns a descriptor (a pipe end, stdin, an eventfd, a tty, a
//! character device) and gives it `Read` and `Write` that park the calling coroutine while the
//! descriptor is not ready, through the same reactor as the sockets of `may::net`.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use crate::reactor::{Direction, Io};

/// Holds `T`'s descriptor; `AsRawFd` for the reactor's `Io`.
struct Fd<T>(T);

impl<T: AsFd> AsRawFd for Fd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// Coroutine-aware `Read` and `Write` for any descriptor.
///
/// [`CoIo::new`] puts the descriptor into non-blocking mode (the flag belongs to the open file,
/// so it is shared with every other descriptor of it: mind this for stdin and ttys inherited
/// from a shell) and [`CoIo::into_inner`] restores the original mode. Regular files are always
/// "ready", so reading them still blocks the worker: use `spawn_blocking` for file I/O.
///
/// ```
/// use std::io::{Read, Write};
/// use may_core::io::CoIo;
///
/// // Any descriptor works; a socket pair stands in for a pipe here.
/// let (reader, writer) = std::os::unix::net::UnixStream::pair()?;
/// let mut reader = CoIo::new(reader)?;
/// let mut writer = CoIo::new(writer)?;
/// writer.write_all(b"through a pipe")?;
/// drop(writer);
/// let mut text = String::new();
/// reader.read_to_string(&mut text)?;
/// assert_eq!(text, "through a pipe");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct CoIo<T: AsFd> {
    io: Io<Fd<T>>,
    /// The file status flags before `new`, restored by `into_inner`.
    flags: libc::c_int,
}

impl<T: AsFd> CoIo<T> {
    /// Wraps `inner`, switching its descriptor to non-blocking mode.
    pub fn new(inner: T) -> io::Result<CoIo<T>> {
        let fd = inner.as_fd().as_raw_fd();
        let flags = fcntl(fd, libc::F_GETFL, 0)?;
        if flags & libc::O_NONBLOCK == 0 {
            fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)?;
        }
        Ok(CoIo {
            io: Io::new(Fd(inner)),
            flags,
        })
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &T {
        &self.io.get().0
    }

    /// Unwraps the value, restoring its descriptor's original blocking mode.
    pub fn into_inner(self) -> io::Result<T> {
        let flags = self.flags;
        let inner = self.io.into_inner().0;
        fcntl(inner.as_fd().as_raw_fd(), libc::F_SETFL, flags)?;
        Ok(inner)
    }

    /// Sets the read timeout (a timed-out read fails with `ErrorKind::WouldBlock`).
    pub fn set_read_timeout(&self, dur: Option<std::time::Duration>) -> io::Result<()> {
        self.io.set_timeout(Direction::Read, dur)
    }

    /// Sets the write timeout.
    pub fn set_write_timeout(&self, dur: Option<std::time::Duration>) -> io::Result<()> {
        self.io.set_timeout(Direction::Write, dur)
    }
}

impl<T: AsFd> fmt::Debug for CoIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoIo")
            .field("fd", &self.io.get().as_raw_fd())
            .finish()
    }
}

fn fcntl(fd: RawFd, cmd: libc::c_int, arg: libc::c_int) -> io::Result<libc::c_int> {
    // SAFETY: F_GETFL/F_SETFL take an int argument and touch no memory of ours; `fd` is open
    // (borrowed from a live owner).
    let r = unsafe { libc::fcntl(fd, cmd, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cvt(n: isize) -> io::Result<usize> {
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call.
    cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

fn write_fd(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the duration of the call.
    cvt(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })
}

fn iov_count(len: usize) -> libc::c_int {
    libc::c_int::try_from(len.min(1024)).unwrap_or(1024)
}

impl<T: AsFd> Read for &CoIo<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .with(Direction::Read, |fd| read_fd(fd.as_raw_fd(), buf))
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.with(Direction::Read, |fd| {
            // SAFETY: `IoSliceMut` is ABI-compatible with `iovec` on Unix; at most
            // `iov_count` entries of the valid slice are read by the kernel.
            let n = unsafe {
                libc::readv(
                    fd.as_raw_fd(),
                    bufs.as_mut_ptr().cast(),
                    iov_count(bufs.len()),
                )
            };
            cvt(n)
        })
    }
}

impl<T: AsFd> Write for &CoIo<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .with(Direction::Write, |fd| write_fd(fd.as_raw_fd(), buf))
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.with(Direction::Write, |fd| {
            // SAFETY: `IoSlice` is ABI-compatible with `iovec` on Unix; at most `iov_count`
            // entries of the valid slice are read by the kernel.
            let n = unsafe {
                libc::writev(fd.as_raw_fd(), bufs.as_ptr().cast(), iov_count(bufs.len()))
            };
            cvt(n)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<T: AsFd> Read for CoIo<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl<T: AsFd> Write for CoIo<T> {
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

impl<T: AsFd> AsFd for CoIo<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get().0.as_fd()
    }
}

impl<T: AsFd> AsRawFd for CoIo<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get().as_raw_fd()
    }
}

/// A `CoIo` of a `Send + Sync` descriptor can move to and be shared with other coroutines and
/// threads.
const _: () = {
    const fn check<T: Send + Sync>() {}
    check::<CoIo<std::os::fd::OwnedFd>>();
};
