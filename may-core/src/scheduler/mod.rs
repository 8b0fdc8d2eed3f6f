//! The scheduler: the worker threads, their queues, and how tasks move between them.
//!
//! Each worker owns a stealable deque of tasks that have **not started yet**, a local ready
//! queue of started tasks, a remote queue for wake-ups coming from other threads, its I/O driver
//! (it sleeps in the driver's poll) and its timers. Idle workers steal only tasks that have not
//! started; a started task always resumes on the worker that started it, which is what makes
//! `thread_local!` and `!Send` values held across a blocking call sound (see
//! docs/architecture.md).
//!
//! The task core knows nothing of this: the scheduler installs itself as the core's
//! [`Schedule`], and runs tasks with `Task::run`.

mod registry;
mod remote;
mod worker;

use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crossbeam_deque::{Injector, Stealer};
use crossbeam_utils::CachePadded;

use crate::reactor::{Driver, DriverHandle};
use crate::task::{Schedule, Task, KINDS};
use registry::Registry;
use remote::RemoteQueue;

/// What other threads may touch of a worker.
pub(crate) struct WorkerShared {
    stealer: Stealer<Arc<Task>>,
    /// New tasks spawned from threads that are not workers, placed here round-robin.
    inject: Injector<Arc<Task>>,
    /// Started tasks woken from other threads, waiting to be moved to the ready queue.
    remote: RemoteQueue<Task>,
    driver: Arc<DriverHandle>,
    /// Set while the worker is (about to be) blocked in its driver's poll; whoever clears it
    /// wakes it.
    sleeping: AtomicBool,
    /// Counters, summed on read (see `Runtime::counts`).
    counters: CachePadded<Counters>,
    /// The tasks started on this worker and not finished, for the dump.
    registry: Registry,
}

/// Per-worker counters, written by their worker only (plain relaxed stores: no atomic
/// read-modify-write), read by anyone and summed on read.
#[derive(Default)]
pub(crate) struct Counters {
    /// Tasks spawned by tasks of this worker.
    pub(crate) spawned: AtomicUsize,
    /// Tasks that finished on this worker.
    pub(crate) finished: AtomicUsize,
    /// Tasks started on this worker and not finished (they live here for good).
    pub(crate) live: AtomicUsize,
    /// Started tasks queued to run, as of the start of the worker's last round.
    pub(crate) ready: AtomicUsize,
    /// Batches of new tasks stolen from other workers.
    pub(crate) steals: AtomicUsize,
    /// Polls of the I/O driver (sleeping ones and a busy worker's periodic ones).
    pub(crate) polls: AtomicUsize,
    /// Wake-ups of this worker's tasks that came from other threads.
    pub(crate) remote_wakes: AtomicUsize,
    /// Timers that fired.
    pub(crate) timers_fired: AtomicUsize,
    /// Timers armed, as of the start of the worker's last round.
    pub(crate) timers_armed: AtomicUsize,
    /// This worker's coroutines parked (or woken and not run yet), by kind code of their wait
    /// (`task::activity`), as of their last switch.
    pub(crate) parked: [AtomicUsize; KINDS],
}

impl Counters {
    /// Adds `delta` to `counter`; only the worker itself writes its counters, so no atomic
    /// read-modify-write is needed.
    pub(crate) fn add(counter: &AtomicUsize, delta: isize) {
        let value = counter.load(Ordering::Relaxed);
        counter.store(value.wrapping_add_signed(delta), Ordering::Relaxed);
    }
}

/// One worker's numbers (see `Runtime::worker_stats`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WorkerStats {
    pub(crate) live: usize,
    pub(crate) ready: usize,
    pub(crate) new_queued: usize,
    pub(crate) spawned: usize,
    pub(crate) finished: usize,
    pub(crate) steals: usize,
    pub(crate) polls: usize,
    pub(crate) remote_wakes: usize,
    pub(crate) timers_fired: usize,
    pub(crate) timers_armed: usize,
    pub(crate) parked: [usize; KINDS],
}

/// How many workers to start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    pub(crate) workers: usize,
}

/// The running scheduler: its workers and the queue for spawns from outside them.
pub(crate) struct Runtime {
    workers: Box<[WorkerShared]>,
    /// The worker the next task spawned from outside goes to (round-robin).
    next_inject: AtomicUsize,
    /// Number of workers sleeping (or about to sleep) in their driver's poll.
    idle: AtomicUsize,
    /// Tasks spawned from threads that are not workers.
    spawned_outside: AtomicUsize,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The installed [`Schedule`]: it forwards to the runtime, which exists once any task runs.
struct Hook;

impl Schedule for Hook {
    #[inline]
    fn schedule(&self, task: Arc<Task>) {
        RUNTIME.wait().schedule(task);
    }
}

static HOOK: Hook = Hook;

/// Starts the scheduler with `params`, once; later calls return the running one.
pub(crate) fn start(params: impl FnOnce() -> Params) -> &'static Runtime {
    RUNTIME.get_or_init(|| build(params()))
}

/// The scheduler if it has been started.
pub(crate) fn try_runtime() -> Option<&'static Runtime> {
    RUNTIME.get()
}

fn build(params: Params) -> Runtime {
    crate::task::install_scheduler(&HOOK);
    if let Err(err) = crate::task::overflow::install() {
        log::warn!("may: cannot install the stack-overflow handler: {err}");
    }
    let count = params.workers.max(1);
    let mut shared = Vec::with_capacity(count);
    let mut parts = Vec::with_capacity(count);
    for index in 0..count {
        let driver = match Driver::new() {
            Ok(driver) => driver,
            Err(err) => panic!("may: cannot create the I/O driver of worker {index}: {err}"),
        };
        let deque = crossbeam_deque::Worker::new_fifo();
        shared.push(WorkerShared {
            stealer: deque.stealer(),
            inject: Injector::new(),
            remote: RemoteQueue::default(),
            driver: Arc::clone(driver.handle()),
            sleeping: AtomicBool::new(false),
            counters: CachePadded::new(Counters::default()),
            registry: Registry::default(),
        });
        parts.push(worker::Parts {
            index,
            deque,
            driver,
        });
    }
    for parts in parts {
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
        next_inject: AtomicUsize::new(0),
        idle: AtomicUsize::new(0),
        spawned_outside: AtomicUsize::new(0),
    }
}

impl Runtime {
    /// Hands a new (not yet started) task to the scheduler: a worker's task goes to that
    /// worker's queues; one spawned from outside goes to the workers in turn, so that a burst
    /// spreads over them (a started task never moves, see `worker::find_new`).
    pub(crate) fn submit(&self, task: Arc<Task>) {
        match worker::local() {
            Some(local) => {
                Counters::add(&self.workers[local.index].counters.spawned, 1);
                if local.push_new(task) {
                    self.wake_idle_worker();
                }
            }
            None => {
                self.spawned_outside.fetch_add(1, Ordering::Relaxed);
                let target = self.next_inject.fetch_add(1, Ordering::Relaxed) % self.workers.len();
                let worker = &self.workers[target];
                worker.inject.push(task);
                fence(Ordering::SeqCst);
                if worker.sleeping.load(Ordering::SeqCst)
                    && worker.sleeping.swap(false, Ordering::SeqCst)
                {
                    worker.driver.wake();
                }
            }
        }
    }

    /// Queues a started task to be resumed on its home worker.
    #[inline]
    fn schedule(&self, task: Arc<Task>) {
        let home = task.home.load(Ordering::Acquire);
        if let Some(local) = worker::local() {
            if local.index == home {
                local.push_ready(task);
                return;
            }
        }
        let worker = &self.workers[home];
        worker.remote.push(task);
        fence(Ordering::SeqCst);
        // A worker that is awake needs no wake-up: read before paying for the swap.
        if worker.sleeping.load(Ordering::SeqCst) && worker.sleeping.swap(false, Ordering::SeqCst) {
            worker.driver.wake();
        }
    }

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
                worker.driver.wake();
                return;
            }
        }
    }

    /// Whether new tasks wait anywhere that `worker` could take them from: its own injection
    /// queue, or another worker's queues.
    fn has_stealable_work(&self, worker: usize) -> bool {
        self.workers
            .iter()
            .enumerate()
            .any(|(i, w)| !w.inject.is_empty() || (i != worker && !w.stealer.is_empty()))
    }

    /// The number of workers.
    pub(crate) fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Runs `f(worker, task)` on every started, unfinished task, worker by worker, each under
    /// that worker's registry lock.
    pub(crate) fn for_each_task(&self, mut f: impl FnMut(usize, &Task)) {
        for (index, worker) in self.workers.iter().enumerate() {
            worker.registry.for_each(|task| f(index, task));
        }
    }

    /// Each worker's counters and queue lengths.
    pub(crate) fn worker_stats(&self) -> Vec<WorkerStats> {
        self.workers
            .iter()
            .map(|w| {
                let c = &w.counters;
                WorkerStats {
                    live: c.live.load(Ordering::Relaxed),
                    ready: c.ready.load(Ordering::Relaxed),
                    new_queued: w.stealer.len() + w.inject.len(),
                    spawned: c.spawned.load(Ordering::Relaxed),
                    finished: c.finished.load(Ordering::Relaxed),
                    steals: c.steals.load(Ordering::Relaxed),
                    polls: c.polls.load(Ordering::Relaxed),
                    remote_wakes: c.remote_wakes.load(Ordering::Relaxed),
                    timers_fired: c.timers_fired.load(Ordering::Relaxed),
                    timers_armed: c.timers_armed.load(Ordering::Relaxed),
                    parked: std::array::from_fn(|k| c.parked[k].load(Ordering::Relaxed)),
                }
            })
            .collect()
    }

    /// Tasks spawned and finished since start, summed over the workers.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let mut spawned = self.spawned_outside.load(Ordering::Relaxed);
        let mut finished = 0;
        for worker in self.workers.iter() {
            spawned += worker.counters.spawned.load(Ordering::Relaxed);
            finished += worker.counters.finished.load(Ordering::Relaxed);
        }
        (spawned, finished)
    }
}
