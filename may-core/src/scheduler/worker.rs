//! One worker thread: its private state and its loop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use super::{Counters, Runtime, WorkerShared, RUNTIME};
use crate::reactor::Driver;
use crate::task::{Ran, Task, NO_WORKER};

/// Ready coroutines run per round before the worker looks at timers, remote wakes and I/O.
const READY_BATCH: usize = 256;
/// New coroutines started per round.
const NEW_BATCH: usize = 32;

/// How long an idle worker spins looking for work before it sleeps in `poll`.
const SPIN_BEFORE_SLEEP: std::time::Duration = std::time::Duration::from_micros(20);
/// Idle periods in a row whose spin found nothing, after which the worker stops spinning until
/// another thread hands it work again (see `WorkerLocal::spin_if_useful`).
const SPIN_MISSES_BEFORE_PAUSE: u32 = 2;
/// Queue checks between two reads of the clock while spinning.
const SPIN_CHECKS_PER_CLOCK_READ: usize = 32;
/// A busy worker moves the runtime's coarse clock (the "since" of the dump) every this many
/// rounds (and after it slept).
const CLOCK_TICK_INTERVAL: u32 = 32;
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
    /// Idle periods in a row whose spin found no work (see `spin_if_useful`).
    spin_misses: Cell<u32>,
}

/// How many places ahead in the ready queue a task's stack is prefetched (see `pop_ready`).
const PREFETCH_STACK_AHEAD: usize = 2;
/// How many places ahead in the ready queue a task's own lines are prefetched.
const PREFETCH_TASK_AHEAD: usize = 4;

/// Coroutines started from the `next` slot in a row before the worker looks at its queues.
const NEXT_CHAIN: usize = 3;

/// Where an idle worker steals new tasks from: another worker's injection queue or deque.
trait StealSource {
    fn looks_empty(&self) -> bool;
    fn steal_into(&self, dest: &Worker<Arc<Task>>) -> Steal<Arc<Task>>;
}

impl StealSource for Injector<Arc<Task>> {
    fn looks_empty(&self) -> bool {
        self.is_empty()
    }

    fn steal_into(&self, dest: &Worker<Arc<Task>>) -> Steal<Arc<Task>> {
        self.steal_batch_and_pop(dest)
    }
}

impl StealSource for Stealer<Arc<Task>> {
    fn looks_empty(&self) -> bool {
        self.is_empty()
    }

    fn steal_into(&self, dest: &Worker<Arc<Task>>) -> Steal<Arc<Task>> {
        self.steal_batch_and_pop(dest)
    }
}

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

    /// The next ready task. Tasks further down the queue get their lines prefetched meanwhile:
    /// the top of the stack of the one [`PREFETCH_STACK_AHEAD`] places on (whose stack hint is
    /// in cache by then), the task itself [`PREFETCH_TASK_AHEAD`] places on. A memory load
    /// takes longer than a short task's turn, hence more than one place ahead.
    fn pop_ready(&self) -> Option<Arc<Task>> {
        let mut ready = self.ready.borrow_mut();
        let task = ready.pop_front();
        if let Some(soon) = ready.get(PREFETCH_STACK_AHEAD - 1) {
            soon.prefetch_stack();
        }
        if let Some(later) = ready.get(PREFETCH_TASK_AHEAD - 1) {
            later.prefetch();
        }
        task
    }

    /// Whether an unstarted task waits in this worker's own queues.
    fn has_new_work(&self, rt: &Runtime) -> bool {
        self.next.borrow().is_some()
            || !self.deque.is_empty()
            || !rt.workers[self.index].inject.is_empty()
    }

    /// A not-yet-started task: this worker's own first (its `next` slot, its deque, the tasks
    /// spawned from outside for it), then, only when it has nothing ready to run, a batch stolen
    /// from another worker. A started task never leaves its worker, so where tasks start decides
    /// the balance for their whole lives: a busy worker that took other workers' new tasks as
    /// soon as they appeared (it polls the queues every round) would end up with all of a burst.
    fn find_new(&self, rt: &Runtime) -> Option<Arc<Task>> {
        if let Some(task) = self.next.borrow_mut().take() {
            return Some(task);
        }
        if let Some(task) = self.deque.pop() {
            return Some(task);
        }
        // `is_empty` checks are cheap loads; a steal attempt pins an epoch.
        let own = &rt.workers[self.index].inject;
        while !own.is_empty() {
            match own.steal_batch_and_pop(&self.deque) {
                Steal::Success(task) => return Some(task),
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
        if !self.ready.borrow().is_empty() {
            return None;
        }
        let count = rt.workers.len();
        for step in 1..count {
            let victim = &rt.workers[(self.index + step) % count];
            for source in [&victim.inject as &dyn StealSource, &victim.stealer] {
                loop {
                    if source.looks_empty() {
                        break;
                    }
                    match source.steal_into(&self.deque) {
                        Steal::Success(task) => {
                            Counters::add(&rt.workers[self.index].counters.steals, 1);
                            return Some(task);
                        }
                        Steal::Retry => continue,
                        Steal::Empty => break,
                    }
                }
            }
        }
        None
    }

    fn drain_remote(&self, shared: &WorkerShared) -> bool {
        // `drain` looks at each part before touching it: no separate emptiness check.
        let woken = shared.remote.drain(|task| self.push_ready(task));
        if woken == 0 {
            return false;
        }
        Counters::add(&shared.counters.remote_wakes, woken as isize);
        true
    }

    /// Runs `task` until it blocks, yields or finishes.
    fn resume(&self, task: Arc<Task>, rt: &Runtime) {
        let shared = &rt.workers[self.index];
        if task.home.load(Ordering::Relaxed) == NO_WORKER {
            task.home.store(self.index, Ordering::Release);
            Counters::add(&shared.counters.live, 1);
            shared.registry.insert(&task);
        }
        let parked = &shared.counters.parked;
        // Moves the task's count from the kind of wait it was resumed from to the kind it is
        // parked in now (`None`: not parked).
        let recount = |before: Option<usize>, now: Option<usize>| {
            if now != before {
                if let Some(kind) = before {
                    Counters::add(&parked[kind], -1);
                }
                if let Some(kind) = now {
                    Counters::add(&parked[kind], 1);
                }
            }
        };
        let ran = task.run(|task, resumed_from| {
            recount(resumed_from, None);
            shared.registry.remove(task);
            Counters::add(&shared.counters.finished, 1);
            Counters::add(&shared.counters.live, -1);
        });
        match ran {
            Ran::Suspended {
                parked: now,
                resumed_from: before,
            } => recount(before, now),
            Ran::Yielded { task, resumed_from } => {
                recount(resumed_from, None);
                self.push_ready(task);
            }
            Ran::Finished(task) => drop(task),
        }
    }

    /// Whether other threads handed this worker work (its remote queue) or left some to steal.
    #[inline]
    fn has_work_from_others(&self, shared: &WorkerShared, rt: &Runtime) -> bool {
        !shared.remote.is_empty() || rt.has_stealable_work(self.index)
    }

    /// Spins briefly, watching the remote queue and the stealable queues, before the worker
    /// goes to sleep: when coroutines on two workers hand work back and forth (a ping-pong over
    /// a channel), the next wake usually arrives within microseconds, and catching it here saves
    /// an eventfd write and an `epoll_wait` wake-up (tens of microseconds on a VM) per hop.
    fn spin_for_work(&self, shared: &WorkerShared, rt: &Runtime) -> bool {
        let start = Instant::now();
        loop {
            for _ in 0..SPIN_CHECKS_PER_CLOCK_READ {
                if self.has_work_from_others(shared, rt) {
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

    /// Spins for work (see `spin_for_work`) unless the last idle periods showed that it does not
    /// pay: a worker whose work comes from I/O (an echo or HTTP server) would only burn the time
    /// its peers on the same cores need (4-7% of the CPU in the network benchmarks), since the
    /// spin does not look at the sockets. The spin resumes once another thread hands the worker
    /// work while it sleeps (see `sleep`).
    fn spin_if_useful(&self, shared: &WorkerShared, rt: &Runtime) -> bool {
        let misses = self.spin_misses.get();
        if misses >= SPIN_MISSES_BEFORE_PAUSE {
            return false;
        }
        let found = self.spin_for_work(shared, rt);
        self.spin_misses.set(if found { 0 } else { misses + 1 });
        found
    }

    /// Blocks in `poll` until a wake, an I/O event or the next timer.
    fn sleep(&self, shared: &WorkerShared, rt: &Runtime) {
        // Nothing to run: a good moment to give finished stacks' memory back.
        let sweep_due = crate::task::stack::sweep_if_due();
        shared.sleeping.store(true, Ordering::SeqCst);
        rt.idle.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let timeout = if self.has_work_from_others(shared, rt) {
            Some(std::time::Duration::ZERO)
        } else {
            let timer =
                crate::timer::next_deadline().map(|d| d.saturating_duration_since(Instant::now()));
            match (timer, sweep_due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        self.poll_events(shared, timeout);
        if self.has_work_from_others(shared, rt) {
            // Work handed over by other threads: the kind a spin catches early.
            self.spin_misses.set(0);
        }
        crate::task::tick_clock();
        rt.idle.fetch_sub(1, Ordering::SeqCst);
        shared.sleeping.store(false, Ordering::SeqCst);
    }

    fn poll_events(&self, shared: &WorkerShared, timeout: Option<std::time::Duration>) {
        Counters::add(&shared.counters.polls, 1);
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
        spin_misses: Cell::new(0),
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
        if round.is_multiple_of(CLOCK_TICK_INTERVAL) {
            crate::task::tick_clock();
        }
        let fired = crate::timer::fire_expired();
        let counters = &shared.counters;
        Counters::add(&counters.timers_fired, fired as isize);
        counters
            .timers_armed
            .store(crate::timer::armed(), Ordering::Relaxed);
        counters
            .ready
            .store(local.ready.borrow().len(), Ordering::Relaxed);
        let mut busy = fired > 0;
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
        let new_budget = NEW_BATCH;
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
            if !local.spin_if_useful(shared, rt) {
                local.sleep(shared, rt);
            }
        } else if round.is_multiple_of(IO_CHECK_INTERVAL) {
            local.poll_events(shared, Some(std::time::Duration::ZERO));
        }
    }
}
