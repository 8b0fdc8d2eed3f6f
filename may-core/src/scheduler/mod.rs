//! The scheduler: the worker threads, their queues, and how coroutines move between them.
//!
//! Each worker owns a stealable deque of coroutines that have **not started yet**, a local
//! ready queue of started coroutines, a remote queue (with a `mio::Waker`) for wakes coming from
//! other threads, a `mio::Poll` it sleeps in and a timer heap. Idle workers steal
//! only not-yet-started coroutines; a started coroutine always resumes on the worker that
//! started it, which is what makes `thread_local!` and `!Send` values held across a blocking
//! call sound (see docs/architecture.md).

mod worker;

use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crossbeam_deque::{Injector, Stealer};
use crossbeam_queue::SegQueue;

use crate::coroutine::CoInner;
use crate::timer::TimerKey;

pub(crate) use worker::local;

/// What other threads may touch of a worker.
pub(crate) struct WorkerShared {
    stealer: Stealer<Arc<CoInner>>,
    /// Started coroutines woken from other threads, waiting to be moved to the ready queue.
    remote: SegQueue<Arc<CoInner>>,
    waker: mio::Waker,
    /// Set while the worker is (about to be) blocked in `poll`; whoever clears it wakes it.
    sleeping: AtomicBool,
    /// Registers I/O sources with this worker's `Poll`.
    pub(crate) registry: mio::Registry,
}

/// The running runtime: its workers and the queue for spawns from outside them.
pub(crate) struct Runtime {
    pub(crate) workers: Box<[WorkerShared]>,
    injector: Injector<Arc<CoInner>>,
    /// Number of workers sleeping (or about to sleep) in `poll`.
    idle: AtomicUsize,
    pub(crate) spawned: AtomicUsize,
    pub(crate) finished: AtomicUsize,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, started on first use with the configured number of workers.
pub(crate) fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(start)
}

/// The runtime if it has been started.
pub(crate) fn try_runtime() -> Option<&'static Runtime> {
    RUNTIME.get()
}

fn start() -> Runtime {
    let count = crate::config().freeze();
    crate::config().apply_pool_capacity();
    if let Err(err) = crate::task::overflow::install() {
        log::warn!("may: cannot install the stack-overflow handler: {err}");
    }
    let mut shared = Vec::with_capacity(count);
    let mut locals = Vec::with_capacity(count);
    for index in 0..count {
        let (worker_shared, parts) = match worker::create(index) {
            Ok(pair) => pair,
            Err(err) => panic!("may: cannot create worker {index}: {err}"),
        };
        shared.push(worker_shared);
        locals.push(parts);
    }
    for parts in locals {
        let index = parts.index;
        let spawned = std::thread::Builder::new()
            .name(format!("may-worker-{index}"))
            .spawn(move || worker::run(parts));
        if let Err(err) = spawned {
            panic!("may: cannot start worker thread {index}: {err}");
        }
    }
    Runtime {
        workers: shared.into_boxed_slice(),
        injector: Injector::new(),
        idle: AtomicUsize::new(0),
        spawned: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
    }
}

/// Hands a new (not yet started) coroutine to the scheduler.
pub(crate) fn submit(co: Arc<CoInner>) {
    let rt = runtime();
    rt.spawned.fetch_add(1, Ordering::Relaxed);
    let stealable = match local() {
        Some(local) => local.push_new(co),
        None => {
            rt.injector.push(co);
            true
        }
    };
    if stealable {
        rt.wake_idle_worker();
    }
}

/// Queues a started coroutine to be resumed on its home worker.
pub(crate) fn schedule(co: Arc<CoInner>) {
    let home = co.home.load(Ordering::Acquire);
    if let Some(local) = local() {
        if local.index == home {
            local.push_ready(co);
            return;
        }
    }
    let rt = runtime();
    let worker = &rt.workers[home];
    worker.remote.push(co);
    fence(Ordering::SeqCst);
    // A worker that is awake needs no wake-up: read before paying for the swap.
    if worker.sleeping.load(Ordering::SeqCst) && worker.sleeping.swap(false, Ordering::SeqCst) {
        wake(worker);
    }
}

fn wake(worker: &WorkerShared) {
    if let Err(err) = worker.waker.wake() {
        // The eventfd write only fails if the descriptor is gone; the worker then still wakes
        // at its next timer, so report instead of crashing the waker.
        log::error!("may: failed to wake a worker: {err}");
    }
}

impl Runtime {
    /// Wakes one sleeping worker, if any, so that it can steal new work.
    fn wake_idle_worker(&self) {
        fence(Ordering::SeqCst);
        if self.idle.load(Ordering::SeqCst) == 0 {
            return;
        }
        for worker in self.workers.iter() {
            if worker.sleeping.load(Ordering::Relaxed)
                && worker.sleeping.swap(false, Ordering::SeqCst)
            {
                wake(worker);
                return;
            }
        }
    }

    /// Whether new coroutines wait anywhere that `thief` could take them from.
    fn has_stealable_work(&self, thief: usize) -> bool {
        !self.injector.is_empty()
            || self
                .workers
                .iter()
                .enumerate()
                .any(|(i, w)| i != thief && !w.stealer.is_empty())
    }
}

/// Arms a timer that unparks `co` at `deadline`. Must be called on `co`'s home worker.
pub(crate) fn add_timer(deadline: Instant, co: Arc<CoInner>) -> TimerKey {
    match local() {
        Some(local) => local.timers.borrow_mut().insert(deadline, co),
        None => unreachable!("coroutine timers are armed on the coroutine's own worker"),
    }
}

/// Disarms a timer armed with [`add_timer`] on this worker.
pub(crate) fn remove_timer(key: TimerKey) {
    if let Some(local) = local() {
        local.timers.borrow_mut().remove(key);
    }
}

/// Dispatches an I/O readiness event polled by a worker to the reactor.
pub(crate) fn io_event(event: &mio::event::Event) {
    crate::reactor::dispatch(event);
}
