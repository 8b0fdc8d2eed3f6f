//! Any descriptor as a non-blocking source for `CoIo`: its file status flags, and reads and
//! writes (vectored too) on the raw descriptor.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, RawFd};

use super::cvt;

/// What `CoIo` accepts: anything that owns a file descriptor.
pub(crate) use std::os::fd::AsFd as AsDescriptor;

/// A view of a descriptor owned by someone else, in non-blocking mode while the view lives.
#[derive(Debug)]
pub(crate) struct Descriptor {
    fd: RawFd,
    /// The file status flags before, given back by [`Descriptor::restore`].
    flags: libc::c_int,
}

impl Descriptor {
    /// Switches `owner`'s descriptor to non-blocking mode (the flag belongs to the open file:
    /// every descriptor of it sees the change) and views it.
    ///
    /// # Safety
    /// The view is used no longer than `owner` keeps the descriptor open.
    pub(crate) unsafe fn new<T: AsDescriptor>(owner: &T) -> io::Result<Descriptor> {
        let fd = owner.as_fd().as_raw_fd();
        let flags = fcntl(fd, libc::F_GETFL, 0)?;
        if flags & libc::O_NONBLOCK == 0 {
            fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)?;
        }
        Ok(Descriptor { fd, flags })
    }

    /// Gives the descriptor the mode [`Descriptor::new`] found, and ends the view.
    pub(crate) fn restore(self) -> io::Result<()> {
        fcntl(self.fd, libc::F_SETFL, self.flags).map(|_| ())
    }

    /// `read(2)`.
    pub(crate) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the duration of the call.
        len(unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) })
    }

    /// `write(2)`.
    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the duration of the call.
        len(unsafe { libc::write(self.fd, buf.as_ptr().cast(), buf.len()) })
    }

    /// `readv(2)`.
    pub(crate) fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let count = iov_count(bufs.len());
        // SAFETY: `IoSliceMut` is ABI-compatible with `iovec` on Unix; at most `count` entries
        // of the valid slice are read by the kernel.
        len(unsafe { libc::readv(self.fd, bufs.as_mut_ptr().cast(), count) })
    }

    /// `writev(2)`.
    pub(crate) fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let count = iov_count(bufs.len());
        // SAFETY: `IoSlice` is ABI-compatible with `iovec` on Unix; at most `count` entries of
        // the valid slice are read by the kernel.
        len(unsafe { libc::writev(self.fd, bufs.as_ptr().cast(), count) })
    }
}

impl AsRawFd for Descriptor {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

fn fcntl(fd: RawFd, cmd: libc::c_int, arg: libc::c_int) -> io::Result<libc::c_int> {
    // SAFETY: F_GETFL/F_SETFL take an int argument and touch no memory of ours; `fd` is open
    // (its owner outlives the view).
    cvt(unsafe { libc::fcntl(fd, cmd, arg) })
}

fn len(n: isize) -> io::Result<usize> {
    cvt(n).map(|n| n as usize)
}

/// Most buffers handed to one `readv`/`writev` (Linux's and macOS's `IOV_MAX`).
fn iov_count(len: usize) -> libc::c_int {
    libc::c_int::try_from(len.min(1024)).unwrap_or(1024)
}
