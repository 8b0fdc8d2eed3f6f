//! Coroutine-aware networking with `std::net`'s signatures.
//!
//! [`TcpListener`], [`TcpStream`] and [`UdpSocket`] block the calling coroutine (its worker
//! keeps running others) where the `std` types would block the thread, and behave exactly like
//! `std` on a plain thread. Timeouts (`set_read_timeout`, `set_write_timeout`) report
//! `ErrorKind::WouldBlock` like `std` on Unix; `connect_timeout` reports `TimedOut`.
//! `try_clone` returns a second handle to the same socket, so that a reader and a writer
//! coroutine can share it.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use may_core::net::TcpListener;
//!
//! let listener = TcpListener::bind("127.0.0.1:8080")?;
//! for stream in listener.incoming() {
//!     let mut stream = stream?;
//!     may_core::coroutine::spawn(move || {
//!         let mut buf = [0; 1024];
//!         while let Ok(n @ 1..) = stream.read(&mut buf) {
//!             if stream.write_all(&buf[..n]).is_err() {
//!                 break;
//!             }
//!         }
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

pub(crate) mod addr;
mod listener;
mod tcp;
mod udp;

pub use listener::{Incoming, TcpListener};
pub use tcp::TcpStream;
pub use udp::UdpSocket;

/// Implements `Read` and `Write` (vectored too) for a stream type and its shared reference,
/// delegating to the `&std` type inside its `Io`.
macro_rules! impl_stream_io {
    ($ty:ty) => {
        impl std::io::Read for $ty {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                std::io::Read::read(&mut &*self, buf)
            }
            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                std::io::Read::read_vectored(&mut &*self, bufs)
            }
        }

        impl std::io::Read for &$ty {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let want = buf.len();
                self.io
                    .with_stream($crate::reactor::Direction::Read, want, |s| {
                        (&mut &*s).read(buf)
                    })
            }
            fn read_vectored(
                &mut self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                let want = bufs.iter().map(|b| b.len()).sum();
                self.io
                    .with_stream($crate::reactor::Direction::Read, want, |s| {
                        (&mut &*s).read_vectored(bufs)
                    })
            }
        }

        impl std::io::Write for $ty {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                std::io::Write::write(&mut &*self, buf)
            }
            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                std::io::Write::write_vectored(&mut &*self, bufs)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        impl std::io::Write for &$ty {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                let want = buf.len();
                self.io
                    .with_stream($crate::reactor::Direction::Write, want, |s| {
                        (&mut &*s).write(buf)
                    })
            }
            fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
                let want = bufs.iter().map(|b| b.len()).sum();
                self.io
                    .with_stream($crate::reactor::Direction::Write, want, |s| {
                        (&mut &*s).write_vectored(bufs)
                    })
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
    };
}
pub(crate) use impl_stream_io;

/// Implements `AsRawFd` and `AsFd` for a socket type holding `io: Arc<Io<_>>`.
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get().as_fd()
            }
        }
    };
}
pub(crate) use impl_as_fd;

/// Puts a descriptor owned by a std type into non-blocking mode for `From<std::..>` impls,
/// which cannot fail: a failure (practically impossible for a valid socket) is logged, and
/// operations on it would then block their worker.
pub(crate) fn force_nonblocking(fd: std::os::fd::BorrowedFd<'_>) {
    if let Err(err) = socket2::SockRef::from(&fd).set_nonblocking(true) {
        log::error!("may: cannot make a socket non-blocking: {err}");
    }
}

/// Unwraps a shared `Io`: the value itself when this is the last handle, a duplicate of the
/// descriptor (sharing the file status, hence still non-blocking) otherwise.
pub(crate) fn unwrap_io<S, F>(
    io: std::sync::Arc<crate::reactor::Io<S>>,
    dup: F,
) -> std::io::Result<(S, bool)>
where
    S: std::os::fd::AsRawFd,
    F: FnOnce(&S) -> std::io::Result<S>,
{
    match std::sync::Arc::try_unwrap(io) {
        Ok(io) => Ok((io.into_inner(), true)),
        Err(shared) => dup(shared.get()).map(|s| (s, false)),
    }
}

/// Every socket type can move to and be shared with other coroutines and threads.
const _: () = {
    const fn check<T: Send + Sync>() {}
    check::<TcpListener>();
    check::<TcpStream>();
    check::<UdpSocket>();
};
