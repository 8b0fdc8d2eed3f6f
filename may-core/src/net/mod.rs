//! Coroutine-aware networking with `std::net`'s signatures.
//!
//! [`TcpListener`], [`TcpStream`] and [`UdpSocket`] block the calling coroutine (its worker
//! keeps running others) where the `std` types would block the thread, and behave exactly like
//! `std` on a plain thread. Timeouts (`set_read_timeout`, `set_write_timeout`) report
//! `ErrorKind::WouldBlock` like `std` on Unix; `connect_timeout` reports `TimedOut`.
//! `try_clone` returns a second handle to the same socket, so that a reader and a writer
//! coroutine can share it.
//!
//! For custom protocols every socket type also has a readiness API: `try_read`/`try_write`
//! (`try_recv`, `try_send`, `try_accept`) never wait, and `readable()`/`writable()` wait with
//! the socket's timeout and the coroutine's cancellation (see [`crate::io::CoIo`] for any
//! descriptor). A literal address (`"127.0.0.1:8000"`) is converted in place; only host names
//! go to the blocking pool for a lookup. `incoming()` backs off after `EMFILE` and its kind.
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
mod backoff;
mod listener;
mod tcp;
mod udp;

#[cfg(unix)]
pub(crate) use backoff::AcceptBackoff;
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

/// Implements `AsRawFd` and `AsFd` (`AsRawSocket` and `AsSocket` on Windows) for a socket type
/// holding `io: Arc<Io<_>>`.
#[cfg(unix)]
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.raw()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get().as_fd()
            }
        }
    };
}

/// Implements `AsRawFd` and `AsFd` (`AsRawSocket` and `AsSocket` on Windows) for a socket type
/// holding `io: Arc<Io<_>>`.
#[cfg(windows)]
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl std::os::windows::io::AsRawSocket for $ty {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                self.io.raw()
            }
        }

        impl std::os::windows::io::AsSocket for $ty {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                // SAFETY: the socket stays open while `self` (which owns it) lives.
                unsafe { std::os::windows::io::BorrowedSocket::borrow_raw(self.io.raw()) }
            }
        }
    };
}
pub(crate) use impl_as_fd;

/// Puts a socket owned by a std type into non-blocking mode for `From<std::..>` impls, which
/// cannot fail: a failure (practically impossible for a valid socket) is logged, and operations
/// on it would then block their worker.
pub(crate) fn force_nonblocking<T: crate::sys::AsDescriptor>(socket: &T) {
    if let Err(err) = socket2::SockRef::from(socket).set_nonblocking(true) {
        log::error!("may: cannot make a socket non-blocking: {err}");
    }
}

/// A second socket for the same connection or listener (`dup`, `WSADuplicateSocket`), as a
/// value of type `S`. On Unix it shares the file status, hence stays non-blocking; on Windows
/// it is made non-blocking.
pub(crate) fn duplicate<S, F>(socket: &S, wrap: F) -> std::io::Result<S>
where
    S: crate::sys::AsDescriptor,
    F: FnOnce(socket2::Socket) -> S,
{
    let dup = socket2::SockRef::from(socket).try_clone()?;
    #[cfg(windows)]
    dup.set_nonblocking(true)?;
    Ok(wrap(dup))
}

/// Unwraps a shared `Io`: the value itself when this is the last handle, a duplicate (see
/// [`duplicate`]) otherwise.
pub(crate) fn unwrap_io<S, F>(
    io: std::sync::Arc<crate::reactor::Io<S>>,
    dup: F,
) -> std::io::Result<(S, bool)>
where
    S: crate::sys::Source,
    F: FnOnce(&S) -> std::io::Result<S>,
{
    match std::sync::Arc::try_unwrap(io) {
        Ok(io) => Ok((io.into_inner(), true)),
        Err(shared) => dup(std::ops::Deref::deref(&shared.get())).map(|s| (s, false)),
    }
}

/// Every socket type can move to and be shared with other coroutines and threads.
const _: () = {
    const fn check<T: Send + Sync>() {}
    check::<TcpListener>();
    check::<TcpStream>();
    check::<UdpSocket>();
};
