//! The readiness API every socket type and `CoIo` share: waiting for a direction to be ready
//! (`readable`, `writable`) and non-blocking transfers on streams (`try_read`, `try_write`).
//!
//! Together they let a custom protocol do what may 0.3's `WaitIo` and tokio's `readable` /
//! `try_read` give: read and write without parking while data flows (draining a socket into a
//! buffer until `WouldBlock`, answering everything that arrived with one write), and park only
//! when there is nothing to do. They are the two halves of the loop every blocking call runs
//! (`reactor::Io::try_op` and `reactor::Io::ready`), so the readiness marks stay right: a
//! `try_*` that gets `WouldBlock` clears its direction's mark, and the next wait really waits
//! for the next event (the reactor is edge-triggered). A wait keeps the socket's timeout of its
//! direction (a timed-out wait fails with `ErrorKind::WouldBlock`, as a timed-out read does) and
//! is a cancellation point, like every blocking call.
//!
//! The methods are generated for each type by the macros below, from one text.

/// Implements `readable` (and, with `write`, `writable`) for a type holding `io`, an `Io` or
/// an `Arc<Io>`.
macro_rules! impl_wait_ready {
    ($ty:ident $(<$gen:ident: $bound:path>)?, read $(, $write:ident)?) => {
        impl$(<$gen: $bound>)? $ty$(<$gen>)? {
            /// Waits until this is readable (data or a connection to take, the peer's close,
            /// an error), parking the calling coroutine; on a plain thread it blocks the
            /// thread in `poll`.
            ///
            /// In a coroutine it returns at once while the socket is marked readable, and a
            /// mark can be stale: a new socket starts marked, and another reader may have
            /// taken the data. So the `try_*` call that follows may still get
            /// `ErrorKind::WouldBlock`; that clears the mark, and the next wait really waits.
            /// A loop of "try until `WouldBlock`, then wait" is always right.
            ///
            /// Keeps the read timeout (a timed-out wait fails with `ErrorKind::WouldBlock`,
            /// like a timed-out read) and `set_nonblocking(true)` (it answers `WouldBlock`
            /// instead of waiting). A cancelled coroutine unwinds from the wait.
            pub fn readable(&self) -> std::io::Result<()> {
                self.io.ready($crate::reactor::Direction::Read)
            }

            $(
            /// Waits until this is writable (room in the send buffer, or an error), parking
            /// the calling coroutine; on a plain thread it blocks the thread in `poll`.
            ///
            /// As with `readable`, a mark can be stale: the `try_*` call that follows may
            /// still get `ErrorKind::WouldBlock`, which clears the mark so that the next wait
            /// really waits. Keeps the write timeout (failing with `ErrorKind::WouldBlock`)
            /// and `set_nonblocking(true)`; a cancelled coroutine unwinds from the wait.
            pub fn $write(&self) -> std::io::Result<()> {
                self.io.ready($crate::reactor::Direction::Write)
            }
            )?
        }
    };
}
pub(crate) use impl_wait_ready;

/// Implements `try_read`, `try_read_vectored`, `try_write` and `try_write_vectored` for a
/// stream socket type holding `io: Arc<Io<S>>`, where `&S` is `Read + Write`.
macro_rules! impl_try_stream_io {
    ($ty:ty) => {
        impl $ty {
            /// Reads what is there without waiting: `Ok(0)` at the end of the stream,
            /// `ErrorKind::WouldBlock` when nothing is there now (then
            #[doc = concat!("[`", stringify!($ty), "::readable`]")]
            /// waits for more).
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                let want = buf.len();
                self.io
                    .try_stream($crate::reactor::Direction::Read, want, |s| {
                        std::io::Read::read(&mut &*s, buf)
                    })
            }

            /// Like `try_read`, into several buffers.
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                let want = bufs.iter().map(|b| b.len()).sum();
                self.io
                    .try_stream($crate::reactor::Direction::Read, want, |s| {
                        std::io::Read::read_vectored(&mut &*s, bufs)
                    })
            }

            /// Writes what fits in the send buffer without waiting (possibly less than
            /// `buf`): `ErrorKind::WouldBlock` when nothing fits now (then
            #[doc = concat!("[`", stringify!($ty), "::writable`]")]
            /// waits for room).
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                let want = buf.len();
                self.io
                    .try_stream($crate::reactor::Direction::Write, want, |s| {
                        std::io::Write::write(&mut &*s, buf)
                    })
            }

            /// Like `try_write`, from several buffers.
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                let want = bufs.iter().map(|b| b.len()).sum();
                self.io
                    .try_stream($crate::reactor::Direction::Write, want, |s| {
                        std::io::Write::write_vectored(&mut &*s, bufs)
                    })
            }
        }
    };
}
pub(crate) use impl_try_stream_io;

/// Never drained by a successful operation: datagrams, accepts and descriptors of unknown
/// kind (a short read of a tty proves nothing).
pub(crate) fn never_drained<R>(_: &R) -> bool {
    false
}
