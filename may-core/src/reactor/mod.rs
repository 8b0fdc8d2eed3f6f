//! The reactor: readiness of I/O sources, fed by each worker's `mio::Poll`.
//!
//! Every worker sleeps in its own `mio::Poll`; that poll is the reactor of the sockets registered
//! with it. A source is registered once, edge-triggered, for both directions, with the worker of
//! the coroutine that first has to wait on it ([`Registration::ensure_registered`]). Its
//! [`ScheduledIo`] keeps the readiness bits and the wait lists of its readers and writers.
//!
//! # Readiness state
//! `ScheduledIo::state` packs four bits (`READ`, `WRITE` and the sticky `READ_CLOSED`,
//! `WRITE_CLOSED`) and a tick counter above them. The
//! worker's event dispatch ([`dispatch`]) sets bits and bumps the tick, then wakes the waiters of
//! the ready directions. An operation that got `WouldBlock` clears its bit only if the tick did
//! not move since it loaded the state, so an event that arrives between the syscall and the
//! clear is never lost. A new source starts with both bits set: the first operation always tries
//! the syscall. The closed bits are never cleared: a short read that returns the last bytes
//! before a FIN must not make the next read (which returns EOF) wait for an event that already
//! came. Operations also clear their bit after a short transfer on a stream socket.
//!
//! # Token invariant
//! The `mio::Token` of a registration is `Arc::into_raw` of its `ScheduledIo`: the registration
//! owns that strong reference until the source is deregistered **and** no event polled before the
//! deregistration can still be dispatched. A worker dispatches all events of one poll before it
//! runs any coroutine, so a source dropped on its own worker releases the reference at once; a
//! source dropped on any other thread hands the reference to its worker's deferred queue, which
//! the worker empties right after dispatching a batch ([`release_deferred`]). Any event that
//! names the source was polled before the `EPOLL_CTL_DEL`, hence before it was queued, hence
//! is dispatched before the queue is emptied.

mod io;

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crossbeam_queue::SegQueue;
use mio::unix::SourceFd;
use mio::{Interest, Token};

use crate::wait::WaitList;

pub(crate) use io::Io;

/// Readiness bit of the read direction.
const READ: usize = 1;
/// Readiness bit of the write direction.
const WRITE: usize = 2;
/// Sticky: the peer closed its write half (or the socket failed); reads never wait again.
const READ_CLOSED: usize = 4;
/// Sticky: the socket cannot be written any more (or failed); writes never wait again.
const WRITE_CLOSED: usize = 8;
/// One step of the tick counter stored above the readiness bits.
const TICK: usize = 16;

/// Worker index stored while a source is not registered.
const UNREGISTERED: usize = usize::MAX;

/// The direction an operation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Readable: read, recv, accept, peek.
    Read,
    /// Writable: write, send, connect completion.
    Write,
}

impl Direction {
    fn bit(self) -> usize {
        match self {
            Direction::Read => READ,
            Direction::Write => WRITE,
        }
    }

    fn closed_bit(self) -> usize {
        match self {
            Direction::Read => READ_CLOSED,
            Direction::Write => WRITE_CLOSED,
        }
    }
}

/// The readiness and the waiters of one registered source; shared with the worker's dispatch
/// through the registration's token.
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    /// Readiness bits and tick; see the module docs.
    state: AtomicUsize,
    readers: WaitList,
    writers: WaitList,
}

impl ScheduledIo {
    fn new() -> ScheduledIo {
        ScheduledIo {
            state: AtomicUsize::new(READ | WRITE),
            readers: WaitList::new(),
            writers: WaitList::new(),
        }
    }

    /// The current state word (bits and tick).
    ///
    /// Every access to the state word is `SeqCst`: a waiter stores into a wait list and then
    /// loads the state, the dispatcher stores the state and then loads the list's length; only
    /// a total order guarantees that one of the two sees the other.
    pub(crate) fn state(&self) -> usize {
        self.state.load(Ordering::SeqCst)
    }

    /// Whether `state` has `dir` ready.
    pub(crate) fn is_ready(state: usize, dir: Direction) -> bool {
        state & (dir.bit() | dir.closed_bit()) != 0
    }

    /// Clears the readiness of `dir` unless an event arrived since `seen` was loaded.
    pub(crate) fn clear(&self, seen: usize, dir: Direction) {
        let _ = self.state.compare_exchange(
            seen,
            seen & !dir.bit(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// The wait list of `dir`.
    pub(crate) fn waiters(&self, dir: Direction) -> &WaitList {
        match dir {
            Direction::Read => &self.readers,
            Direction::Write => &self.writers,
        }
    }

    /// Marks `bits` ready, bumps the tick and wakes the waiters of those directions.
    fn set_ready(&self, bits: usize) {
        if bits == 0 {
            return;
        }
        let _ = self
            .state
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
                Some((s | bits).wrapping_add(TICK))
            });
        if bits & READ != 0 {
            while self.readers.notify_one() {}
        }
        if bits & WRITE != 0 {
            while self.writers.notify_one() {}
        }
    }
}

/// Handles one event polled by a worker (every token but the waker's is a `ScheduledIo`).
pub(crate) fn dispatch(event: &mio::event::Event) {
    let ptr = event.token().0 as *const ScheduledIo;
    // SAFETY: every token registered with a worker's poll (except the waker's, which the worker
    // filters out) is `Arc::into_raw` of a `ScheduledIo` whose strong reference stays alive
    // until no polled event can name it any more (see "Token invariant" in the module docs).
    let io = unsafe { &*ptr };
    let mut bits = 0;
    if event.is_readable() {
        bits |= READ;
    }
    if event.is_writable() {
        bits |= WRITE;
    }
    if event.is_read_closed() || event.is_error() {
        bits |= READ | READ_CLOSED;
    }
    if event.is_write_closed() || event.is_error() {
        bits |= WRITE | WRITE_CLOSED;
    }
    io.set_ready(bits);
}

/// Per-worker queues of registration references released on other threads.
fn deferred() -> &'static [SegQueue<Arc<ScheduledIo>>] {
    static DEFERRED: OnceLock<Box<[SegQueue<Arc<ScheduledIo>>]>> = OnceLock::new();
    DEFERRED.get_or_init(|| {
        (0..crate::scheduler::runtime().workers.len())
            .map(|_| SegQueue::new())
            .collect()
    })
}

/// Drops the registration references other threads released for worker `index`. The worker
/// calls this after dispatching every event of a poll.
pub(crate) fn release_deferred(index: usize) {
    if let Some(queue) = deferred().get(index) {
        while let Some(io) = queue.pop() {
            drop(io);
        }
    }
}

/// The link between one file descriptor and the reactor of one worker.
#[derive(Debug)]
pub(crate) struct Registration {
    io: Arc<ScheduledIo>,
    fd: RawFd,
    /// Index of the worker the source is registered with, or `UNREGISTERED`.
    worker: AtomicUsize,
    /// Serialises the first registration (two coroutines may wait on one source at once).
    lock: Mutex<()>,
}

impl Registration {
    /// A not-yet-registered source for `fd`, which must stay open while this value lives.
    pub(crate) fn new(fd: RawFd) -> Registration {
        Registration {
            io: Arc::new(ScheduledIo::new()),
            fd,
            worker: AtomicUsize::new(UNREGISTERED),
            lock: Mutex::new(()),
        }
    }

    /// The readiness and wait lists.
    pub(crate) fn io(&self) -> &ScheduledIo {
        &self.io
    }

    /// Registers the source with the calling worker's poll, once. Must be called on a worker.
    pub(crate) fn ensure_registered(&self) -> std::io::Result<()> {
        if self.worker.load(Ordering::Acquire) != UNREGISTERED {
            return Ok(());
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.worker.load(Ordering::Acquire) != UNREGISTERED {
            return Ok(());
        }
        let Some(local) = crate::scheduler::local() else {
            return Err(std::io::Error::other(
                "may: reactor registration outside a worker thread",
            ));
        };
        let index = local.index;
        let registry = &crate::scheduler::runtime().workers[index].registry;
        let raw = Arc::into_raw(Arc::clone(&self.io));
        let token = Token(raw as usize);
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(err) = registry.register(&mut SourceFd(&self.fd), token, interest) {
            // SAFETY: `raw` came from `Arc::into_raw` just above and was not registered, so
            // this is its only owner.
            drop(unsafe { Arc::from_raw(raw) });
            return Err(err);
        }
        self.worker.store(index, Ordering::Release);
        Ok(())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let index = *self.worker.get_mut();
        if index == UNREGISTERED {
            return;
        }
        let registry = &crate::scheduler::runtime().workers[index].registry;
        if let Err(err) = registry.deregister(&mut SourceFd(&self.fd)) {
            log::warn!("may: deregistering fd {} failed: {err}", self.fd);
        }
        // SAFETY: registration turned one strong reference into the token (`ensure_registered`);
        // it is taken back exactly once, here.
        let token_ref = unsafe { Arc::from_raw(Arc::as_ptr(&self.io)) };
        match crate::scheduler::local() {
            // Our own worker is not dispatching while a coroutine or destructor runs on it.
            Some(local) if local.index == index => drop(token_ref),
            _ => deferred()[index].push(token_ref),
        }
    }
}
