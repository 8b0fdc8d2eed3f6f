//! One worker thread: its private state and its loop.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_deque::{Steal, Worker};
use crossbeam_queue::SegQueue;
use mio::{Events, Poll, Token, Waker};

use super::{runtime, Runtime, WorkerShared};
use crate::coroutine::{set_current, CoInner};
use crate::task::context::Resumed;
use crate::task::stack::{self, Stack};
use crate::timer::TimerHeap;

/// The token of each worker's `mio::Waker`.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

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

/// The state only the worker thread itself touches (coroutines running on it included).
pub(crate) struct WorkerLocal {
    pub(crate) index: usize,
    ready: RefCell<VecDeque<Arc<CoInner>>>,
    deque: Worker<Arc<CoInner>>,
    /// The coroutine spawned last by a coroutine of this worker: it runs as soon as the spawner
    /// blocks or yields, and is not stealable, so spawn-then-join stays on one thread.
    next: RefCell<Option<Arc<CoInner>>>,
    pub(crate) timers: RefCell<TimerHeap>,
    poll: RefCell<Poll>,
}

/// Coroutines started from the `next` slot in a row before the worker looks at its queues.
const NEXT_CHAIN: usize = 3;

/// What `create` hands to the new thread.
pub(crate) struct WorkerParts {
    pub(crate) index: usize,
    deque: Worker<Arc<CoInner>>,
    poll: Poll,
}

thread_local! {
    static LOCAL: Cell<*const WorkerLocal> = const { Cell::new(std::ptr::null()) };
}

/// This thread's worker state, if this thread is a worker.
// Never inlined: coroutines read it after switches (see DESIGN.md on thread-locals).
#[inline(never)]
pub(crate) fn local() -> Option<&'static WorkerLocal> {
    let ptr = LOCAL.with(|l| l.get());
    // SAFETY: the pointer comes from `Box::leak` in `run` and is never freed: worker threads
    // live as long as the process.
    unsafe { ptr.as_ref() }
}

/// Creates a worker's shared half and the parts its thread will own.
pub(crate) fn create(index: usize) -> io::Result<(WorkerShared, WorkerParts)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER_TOKEN)?;
    let registry = poll.registry().try_clone()?;
    let deque = Worker::new_fifo();
    let shared = WorkerShared {
        stealer: deque.stealer(),
        remote: SegQueue::new(),
        waker,
        sleeping: AtomicBool::new(false),
        registry,
    };
    Ok((shared, WorkerParts { index, deque, poll }))
}

impl WorkerLocal {
    pub(crate) fn push_ready(&self, co: Arc<CoInner>) {
        self.ready.borrow_mut().push_back(co);
    }

    /// Queues a new coroutine; returns whether stealable work was added (the previous `next`).
    pub(crate) fn push_new(&self, co: Arc<CoInner>) -> bool {
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

    fn pop_ready(&self) -> Option<Arc<CoInner>> {
        self.ready.borrow_mut().pop_front()
    }

    /// Whether an unstarted coroutine waits in this worker's queues or the global injector.
    fn has_new_work(&self, rt: &Runtime) -> bool {
        self.next.borrow().is_some() || !self.deque.is_empty() || !rt.injector.is_empty()
    }

    /// A not-yet-started coroutine: our own first, then the global injector, then stolen.
    fn find_new(&self, rt: &Runtime) -> Option<Arc<CoInner>> {
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

    /// Unparks the coroutines whose timers expired; returns whether any did.
    fn fire_timers(&self) -> bool {
        if self.timers.borrow().len() == 0 {
            return false;
        }
        let now = Instant::now();
        let mut fired = false;
        loop {
            let expired = self.timers.borrow_mut().pop_expired(now);
            match expired {
                Some(co) => {
                    co.unpark();
                    fired = true;
                }
                None => return fired,
            }
        }
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

    /// Resumes `co` until it blocks, yields or finishes.
    fn resume(&self, co: Arc<CoInner>, rt: &Runtime) {
        if co.home.load(Ordering::Relaxed) == crate::coroutine::NO_WORKER {
            co.home.store(self.index, Ordering::Release);
        }
        set_current(Arc::as_ptr(&co));
        // SAFETY: this worker owns `co`: it popped it from a queue, and a coroutine is queued
        // at most once (see the park token in `CoInner`), so nobody else accesses `context`.
        let context = unsafe { &mut *co.context.get() };
        let Some(context) = context.as_mut() else {
            unreachable!("a queued coroutine always has its context");
        };
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| context.resume()));
        set_current(std::ptr::null());
        match outcome {
            Err(payload) => die(&co, payload),
            Ok(Resumed::Finished(stack)) => self.finish(co, stack, rt),
            Ok(Resumed::Suspended) => {
                // SAFETY: as above: only this worker touches `self_ref` and `spare_ref` while
                // the coroutine is switched out.
                let (self_ref, spare_ref) =
                    unsafe { (&mut *co.self_ref.get(), &mut *co.spare_ref.get()) };
                if self_ref.is_none() {
                    // The first switch out: this reference becomes the coroutine's own.
                    *self_ref = Some(co);
                } else if spare_ref.is_none() {
                    *spare_ref = Some(co);
                }
            }
        }
    }

    fn finish(&self, co: Arc<CoInner>, stack: Stack, rt: &Runtime) {
        // SAFETY: as in `resume`; the coroutine is done and will not run again.
        drop(unsafe { (*co.context.get()).take() });
        if co.measure_stack {
            let used = stack::release_measured(stack);
            co.stack_used.store(used, Ordering::Release);
            eprintln!(
                "may: coroutine #{} {} used {used} of its {} stack bytes",
                co.id,
                co.name
                    .as_deref()
                    .map_or_else(|| "(unnamed)".to_string(), |n| format!("{n:?}")),
                co.stack_size
            );
        } else {
            stack::release(stack);
        }
        rt.finished.fetch_add(1, Ordering::Relaxed);
        co.done.store(true, Ordering::Release);
        co.join_list.notify_all();
        // SAFETY: as in `resume`; the coroutine is done, so its own references go.
        drop(unsafe { ((*co.self_ref.get()).take(), (*co.spare_ref.get()).take()) });
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
    fn sleep(&self, shared: &WorkerShared, rt: &Runtime, events: &mut Events) {
        // Nothing to run: a good moment to give finished stacks' memory back.
        crate::task::stack::sweep_if_due();
        shared.sleeping.store(true, Ordering::SeqCst);
        rt.idle.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let timeout = if !shared.remote.is_empty() || rt.has_stealable_work(self.index) {
            Some(std::time::Duration::ZERO)
        } else {
            self.timers
                .borrow()
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()))
        };
        self.poll_events(events, timeout);
        rt.idle.fetch_sub(1, Ordering::SeqCst);
        shared.sleeping.store(false, Ordering::SeqCst);
    }

    fn poll_events(&self, events: &mut Events, timeout: Option<std::time::Duration>) {
        let polled = self.poll.borrow_mut().poll(events, timeout);
        if let Err(err) = polled {
            if err.kind() != io::ErrorKind::Interrupted {
                log::error!("may: worker {} poll failed: {err}", self.index);
            }
            return;
        }
        for event in events.iter() {
            if event.token() != WAKER_TOKEN {
                crate::scheduler::io_event(event);
            }
        }
        // Only now may registrations released by other threads be freed (reactor docs).
        crate::reactor::release_deferred(self.index);
    }
}

/// A coroutine's resume unwound into the worker. The body catches every panic on the
/// coroutine's own stack, so this is a bug in the runtime: report it and abort rather than run on
/// with a coroutine whose locks are held and whose destructors never ran.
fn die(co: &CoInner, payload: Box<dyn std::any::Any + Send>) -> ! {
    let name = co
        .name
        .as_deref()
        .map_or_else(String::new, |n| format!(" {n:?}"));
    eprintln!(
        "may: coroutine #{}{name} failed inside the runtime: {payload:?}",
        co.id
    );
    std::process::abort();
}

/// The worker thread's main loop.
pub(crate) fn run(parts: WorkerParts) {
    let local: &'static WorkerLocal = Box::leak(Box::new(WorkerLocal {
        index: parts.index,
        ready: RefCell::new(VecDeque::new()),
        deque: parts.deque,
        timers: RefCell::new(TimerHeap::default()),
        next: RefCell::new(None),
        poll: RefCell::new(parts.poll),
    }));
    if let Err(err) = crate::sys::ensure_alt_stack() {
        log::warn!(
            "may: worker {} has no alternate signal stack: {err}",
            local.index
        );
    }
    LOCAL.with(|l| l.set(local));
    let rt = runtime();
    let shared = &rt.workers[local.index];
    let mut events = Events::with_capacity(1024);
    let mut round: u32 = 0;
    loop {
        round = round.wrapping_add(1);
        let mut busy = local.fire_timers();
        busy |= local.drain_remote(shared);
        // The coroutines ready now run in this round. Those they wake run in it too (up to the
        // batch), so a chain of hand-offs on one worker does not pay for a round per hop, but
        // only while no new coroutine waits: new ones start promptly, before an idle worker
        // steals them away from the coroutines they talk to.
        let snapshot = local.ready.borrow().len();
        let mut ready = 0;
        while ready < READY_BATCH && (ready < snapshot || !local.has_new_work(rt)) {
            let Some(co) = local.pop_ready() else { break };
            ready += 1;
            local.resume(co, rt);
            local.run_next(rt);
        }
        busy |= ready > 0;
        // New coroutines get as many turns as resumed ones, so a coroutine that spawns in a loop
        // cannot pile up unstarted coroutines (and their stacks) faster than they run.
        let new_budget = ready.max(NEW_BATCH);
        for _ in 0..new_budget {
            match local.find_new(rt) {
                Some(co) => {
                    busy = true;
                    local.resume(co, rt);
                    local.run_next(rt);
                }
                None => break,
            }
        }
        if !busy {
            if !local.spin_for_work(shared, rt) {
                local.sleep(shared, rt, &mut events);
            }
        } else if round.is_multiple_of(IO_CHECK_INTERVAL) {
            local.poll_events(&mut events, Some(std::time::Duration::ZERO));
        }
    }
}
