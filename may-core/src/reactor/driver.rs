//! One worker's I/O driver: its `mio::Poll`, and the handle other threads use to register
//! sources with it, wake it, and hand back registrations released off its thread.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_queue::SegQueue;
use mio::{Events, Poll, Registry, Token, Waker};

use super::ScheduledIo;

/// The token of each driver's `mio::Waker`; every other token is a `ScheduledIo`.
const WAKER_TOKEN: Token = Token(usize::MAX);
/// Events taken from the kernel per poll.
const EVENTS: usize = 1024;

/// A worker's poll, owned by the worker thread.
pub(crate) struct Driver {
    poll: Poll,
    events: Events,
    handle: Arc<DriverHandle>,
}

/// What other threads may use of a driver.
pub(crate) struct DriverHandle {
    pub(super) registry: Registry,
    waker: Waker,
    /// Registration references released on other threads, dropped by the driver after its next
    /// dispatch (see "Token invariant" in the reactor's module docs).
    deferred: SegQueue<Arc<ScheduledIo>>,
}

thread_local! {
    /// The driver handle of the worker this thread is, if it is one.
    static CURRENT: RefCell<Option<Arc<DriverHandle>>> = const { RefCell::new(None) };
}

impl Driver {
    /// A new driver with its waker.
    pub(crate) fn new() -> io::Result<Driver> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        Ok(Driver {
            poll,
            events: Events::with_capacity(EVENTS),
            handle: Arc::new(DriverHandle {
                registry,
                waker,
                deferred: SegQueue::new(),
            }),
        })
    }

    /// The handle other threads use.
    pub(crate) fn handle(&self) -> &Arc<DriverHandle> {
        &self.handle
    }

    /// Makes this driver the one sources waited on from this thread register with. Called once
    /// by the worker thread that owns it.
    pub(crate) fn enter(&self) {
        CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(&self.handle)));
    }

    /// Waits for I/O events (up to `timeout`; `None` blocks until one or a wake-up), marks the
    /// sources ready and wakes their waiters, then drops the registrations other threads
    /// released.
    pub(crate) fn poll(&mut self, timeout: Option<Duration>) {
        if let Err(err) = self.poll.poll(&mut self.events, timeout) {
            if err.kind() != io::ErrorKind::Interrupted {
                log::error!("may: polling for I/O failed: {err}");
            }
            return;
        }
        for event in self.events.iter() {
            if event.token() == WAKER_TOKEN {
                continue;
            }
            let ptr = event.token().0 as *const ScheduledIo;
            // SAFETY: every token registered with this poll but the waker's is `Arc::into_raw`
            // of a `ScheduledIo` whose strong reference stays alive until no polled event can
            // name it any more (see "Token invariant" in the reactor's module docs).
            let io = unsafe { &*ptr };
            io.dispatch(event);
        }
        // Only now may registrations released by other threads be freed.
        while let Some(io) = self.handle.deferred.pop() {
            drop(io);
        }
    }
}

impl std::fmt::Debug for DriverHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverHandle").finish_non_exhaustive()
    }
}

impl DriverHandle {
    /// Wakes the worker if it is blocked in [`Driver::poll`] (or makes its next poll return at
    /// once).
    pub(crate) fn wake(&self) {
        if let Err(err) = self.waker.wake() {
            // The eventfd write only fails if the descriptor is gone; the worker then still
            // wakes at its next timer, so report instead of crashing the waker.
            log::error!("may: failed to wake a worker: {err}");
        }
    }

    /// Hands back the token reference of a source deregistered off this driver's thread.
    pub(super) fn defer_release(&self, io: Arc<ScheduledIo>) {
        self.deferred.push(io);
    }
}

/// The driver of the calling worker thread (`None` off the runtime's workers).
// Never inlined: tasks call this, and may not keep a thread-local's address across a switch.
#[inline(never)]
pub(super) fn current() -> Option<Arc<DriverHandle>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Whether `handle` is the calling thread's own driver.
#[inline(never)]
pub(super) fn is_current(handle: &Arc<DriverHandle>) -> bool {
    CURRENT
        .try_with(|c| c.borrow().as_ref().is_some_and(|h| Arc::ptr_eq(h, handle)))
        .unwrap_or(false)
}
