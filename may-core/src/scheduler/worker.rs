//! One worker thread: its private state and its loop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_deque::{Steal, Worker};

use super::{Runtime, WorkerShared, RUNTIME};
use crate::reactor::Driver;
use crate::task::{Ran, Task, NO_WORKER};

/// Ready coroutines run per round before the worker looks at timers, remote wakes and I/O.
const READY_BATCH: usize = 256;
/// New coroutines started per round at least.
const NEW_BATCH: usize = 32;
/// How long an idle worker spins looking for work before it sleeps in `poll`.
const SPIN_BEFORE_SLEEP: std::time::Duration = std::time::Duration::from_micros(20);
/// Queue checks between two reads of the clock while spinning.
const SPIN_CHECKS_PER_CLOCK_READ: usize = 32;
/// A busy worker checks for I/O readiness every this many rounds.
const IO_CHECK_INTERVAL: u32 = 61;

/// The state only the worker thread itself touches (tasks running on it included).
pub(crate) struct WorkerLocal {
    pub(crate) index: usize,
    ready: RefCell<VecDeque<Arc<Task>>>,
    deque: Worker<Arc<Task>>,
    /// The task spawned last by a task of this worker: it runs as soon as the spawner blocks or
    /// yields, and is not stealable, so spawn-then-join stays on one thread.
    next: RefCell<Option<Arc<Task>>>,
    driver: RefCell<Driver>,
}

/// Coroutines started from the `next` slot in a row before the worker looks at its queues.
const NEXT_CHAIN: usize = 3;

/// What `build` hands to a new worker thread.
pub(super) struct Parts {
    pub(super) index: usize,
    pub(super) deque: Worker<Arc<Task>>,
    pub(super) driver: Driver,
}

thread_local! {
    static LOCAL: Cell<*const WorkerLocal> = const { Cell::new(std::ptr::null()) };
}

/// This thread's worker state, if this thread is a worker.
// Never inlined: tasks read it after switches (see DESIGN.md on thread-locals).
#[inline(never)]
pub(super) fn local() -> Option<&'static WorkerLocal> {
    let ptr = LOCAL.with(|l| l.get());
    // SAFETY: the pointer comes from `Box::leak` in `run` and is never freed: worker threads
    // live as long as the process.
    unsafe { ptr.as_ref() }
}

impl WorkerLocal {
    pub(super) fn push_ready(&self, task: Arc<Task>) {
        self.ready.borrow_mut().push_back(task);
    }

    /// Queues a new task; returns whether stealable work was added (the previous `next`).
    pub(super) fn push_new(&self, co: Arc<Task>) -> bool {
        match self.next.borrow_mut().replace(co) {
            Some(previous) => {
                self.deque.push(previous);
                true
            }
            None => false,
        }
    }

    /// Runs the coroutines spawned into the `next` slot, a few in a row at most.
    fn run_next(&self, rt: &Runtime) {
        for _ in 0..NEXT_CHAIN {
            let next = self.next.borrow_mut().take();
            match next {
                Some(co) => self.resume(co, rt),
                None => return,
            }
        }
    }

    fn pop_ready(&self) -> Option<Arc<Task>> {
        self.ready.borrow_mut().pop_front()
    }

    /// Whether an unstarted coroutine waits in this worker's queues or the global injector.
    fn has_new_work(&self, rt: &Runtime) -> bool {
        self.next.borrow().is_some() || !self.deque.is_empty() || !rt.injector.is_empty()
    }

    /// A not-yet-started coroutine: our own first, then the global injector, then stolen.
    fn find_new(&self, rt: &Runtime) -> Option<Arc<Task>> {
        if let Some(co) = self.next.borrow_mut().take() {
            return Some(co);
        }
        if let Some(co) = self.deque.pop() {
            return Some(co);
        }
        // `is_empty` checks are cheap loads; a steal attempt pins an epoch.
        while !rt.injector.is_empty() {
            match rt.injector.steal_batch_and_pop(&self.deque) {
                Steal::Success(co) => return Some(co),
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
        let count = rt.workers.len();
        for step in 1..count {
            let victim = &rt.workers[(self.index + step) % count];
            while !victim.stealer.is_empty() {
                match victim.stealer.steal_batch_and_pop(&self.deque) {
                    Steal::Success(co) => return Some(co),
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
        }
        None
    }

    fn drain_remote(&self, shared: &WorkerShared) -> bool {
        let mut any = false;
        if shared.remote.is_empty() {
            return false;
        }
        while let Some(co) = shared.remote.pop() {
            self.push_ready(co);
            any = true;
        }
        any
    }

    /// Runs `task` until it blocks, yields or finishes.
    fn resume(&self, task: Arc<Task>, rt: &Runtime) {
        if task.home.load(Ordering::Relaxed) == NO_WORKER {
            task.home.store(self.index, Ordering::Release);
        }
        let counters = &rt.workers[self.index].counters;
        if let Ran::Finished(task) = task.run(|| {
            counters.finished.fetch_add(1, Ordering::Relaxed);
        }) {
            drop(task);
        }
    }

    /// Spins briefly, watching the remote queue and the stealable queues, before the worker
    /// goes to sleep: when coroutines on two workers hand work back and forth (a ping-pong over
    /// a channel), the next wake usually arrives within microseconds, and catching it here saves
    /// an eventfd write and an `epoll_wait` wake-up (tens of microseconds on a VM) per hop.
    fn spin_for_work(&self, shared: &WorkerShared, rt: &Runtime) -> bool {
        let start = Instant::now();
        loop {
            for _ in 0..SPIN_CHECKS_PER_CLOCK_READ {
                if !shared.remote.is_empty() || rt.has_stealable_work(self.index) {
                    return true;
                }
                std::hint::spin_loop();
            }
            if start.elapsed() >= SPIN_BEFORE_SLEEP {
                return false;
            }
            // Let other threads of an oversubscribed machine (a client on the same cores) run.
            std::thread::yield_now();
        }
    }

    /// Blocks in `poll` until a wake, an I/O event or the next timer.
    fn sleep(&self, shared: &WorkerShared, rt: &Runtime) {
        // Nothing to run: a good moment to give finished stacks' memory back.
        let sweep_due = crate::task::stack::sweep_if_due();
        shared.sleeping.store(true, Ordering::SeqCst);
        rt.idle.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let timeout = if !shared.remote.is_empty() || rt.has_stealable_work(self.index) {
            Some(std::time::Duration::ZERO)
        } else {
            let timer =
                crate::timer::next_deadline().map(|d| d.saturating_duration_since(Instant::now()));
            match (timer, sweep_due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        self.poll_events(timeout);
        rt.idle.fetch_sub(1, Ordering::SeqCst);
        shared.sleeping.store(false, Ordering::SeqCst);
    }

    fn poll_events(&self, timeout: Option<std::time::Duration>) {
        self.driver.borrow_mut().poll(timeout);
    }
}

/// The worker thread's main loop.
pub(super) fn run(parts: Parts) {
    let local: &'static WorkerLocal = Box::leak(Box::new(WorkerLocal {
        index: parts.index,
        ready: RefCell::new(VecDeque::new()),
        deque: parts.deque,
        next: RefCell::new(None),
        driver: RefCell::new(parts.driver),
    }));
    if let Err(err) = crate::sys::ensure_alt_stack() {
        log::warn!(
            "may: worker {} has no alternate signal stack: {err}",
            local.index
        );
    }
    local.driver.borrow().enter();
    LOCAL.with(|l| l.set(local));
    let rt = RUNTIME.wait();
    let shared = &rt.workers[local.index];
    let mut round: u32 = 0;
    loop {
        round = round.wrapping_add(1);
        let mut busy = crate::timer::fire_expired();
        busy |= local.drain_remote(shared);
        // The tasks ready now run in this round. Those they wake run in it too (up to the
        // batch), so a chain of hand-offs on one worker does not pay for a round per hop, but
        // only while no new task waits: new ones start promptly, before an idle worker steals
        // them away from the tasks they talk to.
        let snapshot = local.ready.borrow().len();
        let mut ready = 0;
        while ready < READY_BATCH && (ready < snapshot || !local.has_new_work(rt)) {
            let Some(task) = local.pop_ready() else { break };
            ready += 1;
            local.resume(task, rt);
            local.run_next(rt);
        }
        busy |= ready > 0;
        // New tasks get as many turns as resumed ones, so a task that spawns in a loop cannot
        // pile up unstarted tasks faster than they run.
        let new_budget = ready.max(NEW_BATCH);
        for _ in 0..new_budget {
            match local.find_new(rt) {
                Some(task) => {
                    busy = true;
                    local.resume(task, rt);
                    local.run_next(rt);
                }
                None => break,
            }
        }
        if !busy {
            if !local.spin_for_work(shared, rt) {
                local.sleep(shared, rt);
            }
        } else if round.is_multiple_of(IO_CHECK_INTERVAL) {
            local.poll_events(Some(std::time::Duration::ZERO));
        }
    }
}
