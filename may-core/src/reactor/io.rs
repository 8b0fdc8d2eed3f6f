//! `Io<S>`: a non-blocking source (a socket, or any descriptor on Unix) plus its registration,
//! and the loop every blocking operation on it runs.
//!
//! In a task an operation tries the syscall while its direction is marked ready; on
//! `WouldBlock` it clears the readiness and waits on the direction's wait list, with the
//! operation's timeout as deadline. On a plain thread it tries the syscall and waits in
//! `poll(2)` (`WSAPoll` on Windows) on that one source, which is the blocking behaviour of `std`.
//!
//! The readiness API of the socket types is the two halves of that loop, apart: `try_op` is one
//! try (clearing the mark on `WouldBlock`), `ready` is one wait.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::registration::{Registered, SourceRef, CLEAR_ON_SHORT_TRANSFER};
use super::{Direction, ScheduledIo};
use crate::sys::{self, RawSource, Source};
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Selected, TimedOut};

/// A non-blocking source of type `S` driven by the reactor.
#[derive(Debug)]
pub(crate) struct Io<S: Source> {
    src: Registered<S>,
    /// Read timeout in nanoseconds; 0 means none.
    read_timeout: AtomicU64,
    /// Write timeout in nanoseconds; 0 means none.
    write_timeout: AtomicU64,
    /// Set by `set_nonblocking(true)`: operations return `WouldBlock` instead of waiting.
    nonblocking: AtomicBool,
}

impl<S: Source> Io<S> {
    /// Wraps `inner`, which must already be in non-blocking mode.
    pub(crate) fn new(inner: S) -> Io<S> {
        Io {
            src: Registered::new(inner),
            read_timeout: AtomicU64::new(0),
            write_timeout: AtomicU64::new(0),
            nonblocking: AtomicBool::new(false),
        }
    }

    /// The descriptor or socket as a number, for the runtime's dump.
    fn raw_fd(&self) -> u64 {
        sys::source_number(self.src.raw())
    }

    /// The wrapped value, for calls that do not wait.
    pub(crate) fn get(&self) -> SourceRef<'_, S> {
        self.src.get()
    }

    /// The descriptor or socket of the wrapped value.
    pub(crate) fn raw(&self) -> RawSource {
        self.src.raw()
    }

    /// Deregisters and returns the wrapped value (still in non-blocking mode).
    pub(crate) fn into_inner(self) -> S {
        self.src.into_inner()
    }

    /// Sets the timeout of one direction; `Some(0)` is rejected like std does.
    pub(crate) fn set_timeout(&self, dir: Direction, timeout: Option<Duration>) -> io::Result<()> {
        let nanos = match timeout {
            None => 0,
            Some(d) if d.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ))
            }
            Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1),
        };
        self.timeout_cell(dir).store(nanos, Ordering::Relaxed);
        Ok(())
    }

    /// The timeout of one direction.
    pub(crate) fn timeout(&self, dir: Direction) -> Option<Duration> {
        match self.timeout_cell(dir).load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    fn timeout_cell(&self, dir: Direction) -> &AtomicU64 {
        match dir {
            Direction::Read => &self.read_timeout,
            Direction::Write => &self.write_timeout,
        }
    }

    /// Makes operations return `WouldBlock` instead of waiting (the descriptor itself always
    /// stays non-blocking).
    pub(crate) fn set_nonblocking(&self, nonblocking: bool) {
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for `dir` in between, with the
    /// direction's timeout (reported as `WouldBlock`, like std on Unix).
    pub(crate) fn with<R>(
        &self,
        dir: Direction,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        let deadline = self
            .timeout(dir)
            .and_then(|t| Instant::now().checked_add(t));
        self.with_deadline(dir, deadline, io::ErrorKind::WouldBlock, op)
    }

    /// Like [`Io::with`] for a byte-stream transfer of up to `want` bytes: a short transfer
    /// (fewer bytes than asked, but some) means the socket buffer is drained (read) or full
    /// (write), so the direction's readiness is cleared right away and the next call waits
    /// without first paying for an `EAGAIN` syscall. Only for stream sockets, where a short
    /// transfer has that meaning (not ttys, not datagrams), and not on Windows (see
    /// `CLEAR_ON_SHORT_TRANSFER`).
    pub(crate) fn with_stream(
        &self,
        dir: Direction,
        want: usize,
        op: impl FnMut(&S) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let deadline = self
            .timeout(dir)
            .and_then(|t| Instant::now().checked_add(t));
        let drained = move |n: &usize| *n > 0 && *n < want;
        self.run(dir, deadline, io::ErrorKind::WouldBlock, op, drained)
    }

    /// Like [`Io::with`] with an explicit deadline and the error kind a timeout reports.
    pub(crate) fn with_deadline<R>(
        &self,
        dir: Direction,
        deadline: Option<Instant>,
        timeout_kind: io::ErrorKind,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        self.run(dir, deadline, timeout_kind, op, |_| false)
    }

    /// The operation loop; `drained(result)` says whether a successful result proves the
    /// direction is no longer ready.
    fn run<R>(
        &self,
        dir: Direction,
        deadline: Option<Instant>,
        timeout_kind: io::ErrorKind,
        mut op: impl FnMut(&S) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> io::Result<R> {
        if !crate::task::in_task() {
            return self.thread_op(dir, deadline, timeout_kind, op);
        }
        let sched = self.src.io();
        loop {
            let seen = sched.state();
            if ScheduledIo::is_ready(seen, dir) {
                match self.src.op(&mut op) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if self.nonblocking.load(Ordering::Relaxed) {
                            return Err(e);
                        }
                        self.src.ensure_registered()?;
                        sched.clear(seen, dir);
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Ok(value) => {
                        // Clearing needs a registration to set the bit again later.
                        if CLEAR_ON_SHORT_TRANSFER
                            && drained(&value)
                            && self.src.ensure_registered().is_ok()
                        {
                            sched.clear(seen, dir);
                        }
                        return Ok(value);
                    }
                    Err(e) => return Err(e),
                }
            }
            if self.nonblocking.load(Ordering::Relaxed) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.wait(sched, dir, deadline, timeout_kind)?;
        }
    }

    /// Runs `op` once, without waiting: `WouldBlock` when it would have to wait. In a task, a
    /// direction not marked ready answers `WouldBlock` without a syscall, and a `WouldBlock`
    /// from the syscall (or a short transfer, per `drained`) clears the readiness, so that the
    /// next [`Io::ready`] really waits for the next event. On a plain thread the syscall is
    /// always made (the marks are kept by the workers' drivers, and a thread must not spin on
    /// one a driver has not updated yet).
    pub(crate) fn try_op<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> io::Result<R> {
        if !crate::task::in_task() {
            return loop {
                match self.src.op(&mut op) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    result => break result,
                }
            };
        }
        let sched = self.src.io();
        loop {
            let seen = sched.state();
            if !ScheduledIo::is_ready(seen, dir) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let result = self.src.op(&mut op);
            let clear = match &result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                Ok(value) => CLEAR_ON_SHORT_TRANSFER && drained(value),
            };
            // Clearing needs a registration to set the mark again on the next event.
            if clear && self.src.ensure_registered().is_ok() {
                sched.clear(seen, dir);
            }
            return result;
        }
    }

    /// Like [`Io::try_op`] for a byte-stream transfer of up to `want` bytes (see
    /// [`Io::with_stream`] on short transfers).
    pub(crate) fn try_stream(
        &self,
        dir: Direction,
        want: usize,
        op: impl FnMut(&S) -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.try_op(dir, op, move |n| *n > 0 && *n < want)
    }

    /// Waits until `dir` is marked ready, with the direction's timeout (reported as
    /// `WouldBlock`, like a timed-out read) and, in a task, cancellation. A mark can be stale:
    /// a new source starts marked ready, and another reader may take the data first, so the
    /// operation that follows may still get `WouldBlock` (which clears the mark: see
    /// [`Io::try_op`]). With `set_nonblocking(true)` it never waits, answering `WouldBlock`.
    /// On a plain thread it waits in `poll(2)` (`WSAPoll`), which reports real readiness.
    pub(crate) fn ready(&self, dir: Direction) -> io::Result<()> {
        let nonblocking = self.nonblocking.load(Ordering::Relaxed);
        let deadline = self
            .timeout(dir)
            .and_then(|t| Instant::now().checked_add(t));
        if !crate::task::in_task() {
            let ready = if nonblocking {
                sys::poll_one(self.src.raw(), dir.poll_for(), 0).unwrap_or(false)
            } else {
                wait_ready(self.src.raw(), dir, deadline)?
            };
            return match (ready, nonblocking) {
                (true, _) => Ok(()),
                (false, true) => Err(io::ErrorKind::WouldBlock.into()),
                (false, false) => Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "operation timed out",
                )),
            };
        }
        let sched = self.src.io();
        loop {
            // A direction is unmarked only once the source is registered (`try_op`, `run`), so
            // a wait below always has an event to come.
            if ScheduledIo::is_ready(sched.state(), dir) {
                return Ok(());
            }
            if nonblocking {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            self.wait(sched, dir, deadline, io::ErrorKind::WouldBlock)?;
        }
    }

    /// Parks the running task until `dir` is marked ready (or spuriously).
    fn wait(
        &self,
        sched: &ScheduledIo,
        dir: Direction,
        deadline: Option<Instant>,
        timeout_kind: io::ErrorKind,
    ) -> io::Result<()> {
        let list = sched.waiters(dir);
        wait::wait(
            match dir {
                Direction::Read => WaitReason::Readable { fd: self.raw_fd() },
                Direction::Write => WaitReason::Writable { fd: self.raw_fd() },
            },
            deadline,
            OnCancel::Unwind,
            |me| {
                list.register(me.registration(), 0);
                if ScheduledIo::is_ready(sched.state(), dir) {
                    // An event came in meanwhile. The dispatcher wakes every waiter of a
                    // direction, so there is nothing to pass on.
                    list.unregister(me);
                    return wait::Registered::Done(());
                }
                wait::Registered::Waiting
            },
            |me, sel| {
                list.unregister(me);
                matches!(sel, Selected::Operation(_)).then_some(())
            },
        )
        .map_err(|TimedOut| io::Error::new(timeout_kind, "operation timed out"))
    }

    /// The plain-thread version: the syscall, then `poll(2)` (`WSAPoll`) on `WouldBlock`.
    fn thread_op<R>(
        &self,
        dir: Direction,
        deadline: Option<Instant>,
        timeout_kind: io::ErrorKind,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            match self.src.op(&mut op) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if self.nonblocking.load(Ordering::Relaxed) {
                        return Err(e);
                    }
                    if !wait_ready(self.src.raw(), dir, deadline)? {
                        return Err(io::Error::new(timeout_kind, "operation timed out"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }
}

/// Waits until `source` is ready for `dir` (`poll(2)`, `WSAPoll`); false when `deadline` passed
/// first.
pub(crate) fn wait_ready(
    source: RawSource,
    dir: Direction,
    deadline: Option<Instant>,
) -> io::Result<bool> {
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(false);
                }
                // Round up so that a sub-millisecond remainder does not spin.
                i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
            }
        };
        match sys::poll_one(source, dir.poll_for(), timeout_ms) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
}
