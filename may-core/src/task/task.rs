//! The shared state of one task (a coroutine) and its life: created with its body, started on
//! a stack of its own at its first run, parked and woken, finished.
//!
//! # Who touches what
//! - `run`, `suspender`, `locals`, `self_ref`, `spare_ref` and `yielded` are only touched by the
//!   thread that currently owns the task: the worker that popped it from a queue (a task is
//!   queued at most once at a time, see the park token), and once started only its home worker
//!   (a started task never migrates), or the task itself while it runs there.
//! - `park_token` is the token of `park`/`unpark`: exactly one party moves it from `PARKED` and
//!   that party schedules the task, so a task is never queued twice.
//! - `slot` is the selected slot of the one wait primitive (see `slot.rs`).

use std::any::Any;
use std::cell::UnsafeCell;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use super::activity::Activity;
use super::context::{Context, Resumed, Suspender};
use super::joiners::Joiners;
use super::park_token::ParkToken;
use super::{current, stack, with_current, Waiter};

/// `home` of a task that has not started yet.
pub(crate) const NO_WORKER: usize = usize::MAX;
/// `stack_used` value when usage was not measured.
pub(crate) const NOT_MEASURED: usize = usize::MAX;

/// Task-local values: `(key address, value)`. A handful per task at most, so a vector.
pub(crate) type LocalMap = Vec<(usize, Box<dyn Any>)>;

/// `Task::flags`: a cancellation was requested.
pub(super) const CANCEL_REQUESTED: u8 = 1;
/// `Task::flags`: the task started unwinding because of a cancellation.
pub(super) const UNWINDING: u8 = 2;
/// `Task::flags`: the task finished.
pub(super) const DONE: u8 = 4;

/// A task's body before it first runs. It is run once, on the task's own stack; or, when no
/// stack can be had for it, abandoned with the reason.
pub(crate) trait Start: Send + Sync {
    /// Runs the body (and stores its result); called once, on the task's stack.
    fn run(&self);
    /// Drops the body without running it: the task could not start.
    fn abandon(&self, why: io::Error);
}

/// Where a task is in its life; see `Task::run`.
enum Run {
    /// Not started: no stack yet.
    NotStarted(Arc<dyn Start>),
    /// Started: its context (stack and saved registers).
    Started(Context),
    /// Finished; its stack went back.
    Finished,
}

/// Shared state of one task.
///
/// # Layout
/// `repr(C)`, in three parts, so that the fields a worker writes on every switch never share a
/// cache line with another allocation: `Arc`'s two counters and fields written once (or rarely)
/// fill the allocation's first 64 bytes, then come the fields written on every resume, switch
/// and wake-up, then the rest, again written rarely, at least 63 bytes of them. Every line that
/// holds a byte of the hot part lies inside the task's own allocation (see
/// `hot_fields_stay_off_the_neighbours_lines`), so a worker switching among its tasks never
/// writes a line that a neighbouring task of another worker uses: tasks spawned in a loop from
/// one thread sit next to each other on the heap and go to the workers in turn. (`yield_now`
/// among 1,000 tasks on 2 workers took 34-37 ns with the compiler's layout, 27-30 ns with a
/// 64-byte aligned task, which costs 174 bytes more per task; this layout costs none,
/// docs/performance.md "Task layout".)
#[repr(C)]
pub(crate) struct Task {
    // ---- cold head: written when the task is made, or rarely ----
    pub(crate) id: u64,
    pub(crate) name: Option<Box<str>>,
    /// Usable stack size in bytes.
    pub(crate) stack_size: usize,
    /// Index of the worker that started this task (`NO_WORKER` before): the scheduler's, kept
    /// here so that a waker finds the queue without a lookup.
    pub(crate) home: AtomicUsize,
    /// Where the scheduler keeps the task in its home worker's registry (its own bookkeeping,
    /// like `home`).
    pub(crate) registry_slot: AtomicU32,
    /// `CANCEL_REQUESTED`, `UNWINDING` (set by the task itself) and `DONE`.
    pub(super) flags: AtomicU8,
    /// Whether the stack is filled so that its use can be measured when the task finishes.
    pub(crate) measure_stack: bool,
    // ---- hot: written on every switch, resume or wake-up ----
    /// # Invariant
    /// Accessed only by the task's owner (see the module docs).
    run: UnsafeCell<Run>,
    /// What the task is doing, for the runtime's dump.
    pub(crate) activity: Activity,
    /// About where the task's stack pointer was when it last switched out, so that its worker
    /// can prefetch those lines before switching back in (see [`Task::prefetch`]).
    ///
    /// # Invariant
    /// Written by the task itself as it switches out, read by its home worker between resumes.
    pub(super) sp_hint: UnsafeCell<usize>,
    /// A spare reference for the task's next wait-list registration: the worker keeps the
    /// reference a wake-up queued it with here instead of dropping it, and the next registration
    /// takes it instead of cloning, so a wait that ends in a wake-up costs no reference-count
    /// update at all (see `CurrentWaiter::registration`).
    ///
    /// # Invariant
    /// Accessed only on the home worker: by the worker between resumes, by the task itself while
    /// it runs.
    pub(super) spare_ref: UnsafeCell<Option<Arc<Task>>>,
    /// The selected slot of the wait primitive.
    pub(crate) slot: Waiter,
    /// The task's reference to itself while it is started and not finished: a parked task stays
    /// alive (its stack is never dropped while suspended) even when nobody else holds it,
    /// without every park paying for a reference of its own. Set by the home worker after the
    /// first switch out, cleared when the task finishes.
    ///
    /// A task that is never woken again therefore stays allocated, as a blocked goroutine does.
    ///
    /// # Invariant
    /// Accessed only by the home worker, between resumes (like `run`).
    self_ref: UnsafeCell<Option<Arc<Task>>>,
    pub(super) park_token: ParkToken,
    /// Set by the task as it yields, cleared by its worker as the switch returns (see
    /// [`Ran::Yielded`]).
    ///
    /// # Invariant
    /// Accessed only on the home worker: by the task itself while it runs, by the worker between
    /// resumes.
    pub(super) yielded: UnsafeCell<bool>,
    // ---- cold tail: written once or rarely ----
    /// The task's way back to its worker and the bounds of its stack, set when its body starts.
    ///
    /// # Invariant
    /// Accessed only by the task itself, on its home worker (the fault handler, which reads the
    /// stack bounds, runs on the faulting task's own thread).
    pub(super) suspender: UnsafeCell<Option<Suspender>>,
    stack_used: AtomicUsize,
    /// Boxed on first use: most tasks have none.
    ///
    /// # Invariant
    /// Accessed only by the task itself, on its home worker.
    locals: UnsafeCell<Option<Box<LocalMap>>>,
    /// Waiters of the task's completion (its `JoinHandle`, a scope).
    pub(crate) joiners: Joiners,
    /// The task's `tracing` span, entered whenever it runs; closed when it finishes.
    ///
    /// # Invariant
    /// Accessed only by the task's owner (like `run`).
    #[cfg(feature = "tracing")]
    span: UnsafeCell<Option<tracing::Span>>,
    /// The test-only cancellation injection (see `injection.rs`).
    #[cfg(feature = "__cancel_injection")]
    pub(super) injection: super::injection::Injection,
}

// SAFETY: the non-Sync fields (`run`, `suspender`, `sp_hint`, `locals`, `self_ref`, `spare_ref`,
// `yielded`, `span`) are only accessed by one thread at a time, as described in the module
// docs; every other field is atomic or immutable after creation. A started task's stack may
// hold `!Send` values, but it is only ever resumed on its home worker, so those values never
// leave that thread.
unsafe impl Sync for Task {}
// SAFETY: see above; moving the `Arc` between threads moves no access to those fields (a task
// that has not started holds only its `Send` body).
unsafe impl Send for Task {}

/// The span of task `id`: `coroutine{id=.. name=..}` at INFO level, with no parent (a span keeps
/// its parent open, so a chain of coroutines each spawning the next would keep every ancestor's
/// span alive) but following the spawner's current span.
#[cfg(feature = "tracing")]
fn span_for(id: u64, name: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(parent: None, "coroutine", id, name);
    span.follows_from(tracing::Span::current());
    span
}

/// What a slice of a task's run ended with (see [`Task::run`]).
pub(crate) enum Ran {
    /// The task switched out; someone will queue it again.
    Suspended {
        /// The kind code of the wait it parked in (`None` when it yielded).
        parked: Option<usize>,
        /// The kind code of the wait this slice resumed it from, if any.
        resumed_from: Option<usize>,
    },
    /// The task yielded: it goes to the back of its worker's ready queue with this reference
    /// (the one the worker resumed it with), with no trip through the scheduler.
    Yielded {
        task: Arc<Task>,
        /// The kind code of the wait this slice resumed it from, if any.
        resumed_from: Option<usize>,
    },
    /// The task finished (returned, panicked, was cancelled, or could not start); its joiners
    /// were woken. Here is the worker's reference back, to drop after its bookkeeping.
    Finished(Arc<Task>),
}

impl Task {
    /// A task that runs `start` on a stack of `stack_size` bytes (page-rounded) when first run.
    ///
    /// Every task lives in an `Arc` (see [`Task::arc`]).
    pub(crate) fn new(
        id: u64,
        name: Option<Box<str>>,
        stack_size: usize,
        measure_stack: bool,
        start: Arc<dyn Start>,
    ) -> Arc<Task> {
        #[cfg(feature = "tracing")]
        let span = span_for(id, name.as_deref());
        Arc::new(Task {
            id,
            name,
            stack_size,
            measure_stack,
            slot: Waiter::default(),
            park_token: ParkToken::new(),
            home: AtomicUsize::new(NO_WORKER),
            flags: AtomicU8::new(0),
            activity: Activity::default(),
            registry_slot: AtomicU32::new(u32::MAX),
            stack_used: AtomicUsize::new(NOT_MEASURED),
            run: UnsafeCell::new(Run::NotStarted(start)),
            suspender: UnsafeCell::new(None),
            sp_hint: UnsafeCell::new(0),
            locals: UnsafeCell::new(None),
            self_ref: UnsafeCell::new(None),
            spare_ref: UnsafeCell::new(None),
            yielded: UnsafeCell::new(false),
            joiners: Joiners::default(),
            #[cfg(feature = "tracing")]
            span: UnsafeCell::new(Some(span)),
            #[cfg(feature = "__cancel_injection")]
            injection: Default::default(),
        })
    }

    /// A new counted reference to this task.
    pub(super) fn arc(&self) -> Arc<Task> {
        let ptr: *const Task = self;
        // SAFETY: every task lives in an `Arc` (`Task::new` returns one), and `self` borrows it,
        // so bumping the count yields an owned reference.
        unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        }
    }

    /// Whether the task has finished.
    pub(crate) fn is_done(&self) -> bool {
        self.flags.load(Ordering::Acquire) & DONE != 0
    }

    /// Bytes of stack the task used, once finished, if it was measured.
    pub(crate) fn stack_used(&self) -> Option<usize> {
        match self.stack_used.load(Ordering::Acquire) {
            NOT_MEASURED => None,
            used => Some(used),
        }
    }

    /// Runs the task on the calling thread until it switches out or finishes. At its first run
    /// the task gets its stack and starts its body. Called by the task's owner: the worker that
    /// popped it from a queue. `on_finish` runs when the task finished, before anyone waiting
    /// for it can see that (the worker's bookkeeping), with the kind code of the wait this run
    /// resumed it from (see [`Ran::Suspended`]).
    pub(crate) fn run(self: Arc<Task>, on_finish: impl FnOnce(&Task, Option<usize>)) -> Ran {
        let resumed_from = self.activity.running();
        current::set(Arc::as_ptr(&self));
        // A panic never leaves a coroutine (its body's is caught on its own stack), so one
        // that reaches here came from the runtime itself: the guard aborts as it unwinds. (A
        // guard costs nothing on the way through, where `catch_unwind` cost a call per slice.)
        let guard = DieOnUnwind(&self);
        let done = {
            #[cfg(feature = "tracing")]
            // SAFETY: the owner (see the field's invariant).
            let _entered = unsafe { (*self.span.get()).as_ref().map(tracing::Span::enter) };
            self.run_slice()
        };
        std::mem::forget(guard);
        current::set(std::ptr::null());
        match done {
            false => {
                let yielded = self.yielded.get();
                // SAFETY: the owner, between resumes (see the field's invariant). Cleared only
                // when set: a park, the common switch out, writes nothing here.
                if unsafe { *yielded } {
                    // SAFETY: as above.
                    unsafe { *yielded = false };
                    return Ran::Yielded {
                        task: self,
                        resumed_from,
                    };
                }
                let parked = self.activity.waiting_kind();
                // SAFETY: the owner, between resumes (see the module docs).
                let (self_ref, spare_ref) =
                    unsafe { (&mut *self.self_ref.get(), &mut *self.spare_ref.get()) };
                if self_ref.is_none() {
                    // The first switch out: this reference becomes the task's own.
                    *self_ref = Some(self);
                } else if spare_ref.is_none() {
                    *spare_ref = Some(self);
                }
                Ran::Suspended {
                    parked,
                    resumed_from,
                }
            }
            true => {
                on_finish(&self, resumed_from);
                // Closed before anyone waiting can see the task done.
                #[cfg(feature = "tracing")]
                // SAFETY: the owner (see the field's invariant); the task is done.
                drop(unsafe { (*self.span.get()).take() });
                self.flags.fetch_or(DONE, Ordering::Release);
                self.joiners.notify_all();
                // SAFETY: the owner; the task is done, so its own references go.
                drop(unsafe {
                    (
                        (*self.self_ref.get()).take(),
                        (*self.spare_ref.get()).take(),
                    )
                });

                Ran::Finished(self)
            }
        }
    }

    /// Starts or resumes the context; true when the task finished.
    fn run_slice(&self) -> bool {
        // SAFETY: only the owner runs a task (see the module docs).
        let run = unsafe { &mut *self.run.get() };
        if let Run::NotStarted(start) = run {
            let start = Arc::clone(start);
            match self.start_context(start) {
                Ok(context) => *run = Run::Started(context),
                Err((start, err)) => {
                    *run = Run::Finished;
                    start.abandon(err);
                    return true;
                }
            }
        }
        let Run::Started(context) = run else {
            unreachable!("a finished task is never run");
        };
        match context.resume() {
            Resumed::Suspended => false,
            Resumed::Finished(stack) => {
                *run = Run::Finished;
                if self.measure_stack {
                    let used = stack::release_measured(stack);
                    self.stack_used.store(used, Ordering::Release);
                    eprintln!(
                        "may: coroutine #{} {} used {used} of its {} stack bytes",
                        self.id,
                        self.name
                            .as_deref()
                            .map_or_else(|| "(unnamed)".to_string(), |n| format!("{n:?}")),
                        self.stack_size
                    );
                } else {
                    stack::release(stack);
                }
                true
            }
        }
    }

    /// Gives the task its stack and a context that runs `start` on it.
    #[allow(clippy::type_complexity)]
    fn start_context(&self, start: Arc<dyn Start>) -> Result<Context, (Arc<dyn Start>, io::Error)> {
        let mut stack = match stack::allocate(self.stack_size) {
            Ok(stack) => stack,
            Err(err) => return Err((start, err)),
        };
        if self.measure_stack {
            stack.fill_for_measurement();
        }
        Ok(Context::new(stack, move |suspender| {
            with_current(|task| match task {
                // SAFETY: the task itself, on its home worker, before anything reads it.
                Some(task) => unsafe { *task.suspender.get() = Some(suspender) },
                None => unreachable!("a task's body runs with its task current"),
            });
            start.run();
        }))
    }

    /// The guard page below the task's stack, `[start, end)` (`(0, 0)` before its body runs).
    /// Called on the task's own thread (by the fault handler, while the task runs).
    pub(crate) fn guard(&self) -> (usize, usize) {
        // SAFETY: the suspender is written by the task itself when its body starts, on this
        // thread, before anything here can fault on its stack.
        match unsafe { *self.suspender.get() } {
            Some(suspender) => {
                let bottom = suspender.stack_bottom();
                (bottom - crate::sys::guard_size(), bottom)
            }
            None => (0, 0),
        }
    }

    /// Runs `f` with the task-local values. Called by the task itself; `f` must not run user
    /// code (which could touch the map again).
    pub(crate) fn with_locals<R>(&self, f: impl FnOnce(&mut LocalMap) -> R) -> R {
        // SAFETY: only the task itself touches its locals, on its home worker, and no other
        // borrow is alive: callers run no user code inside `f`.
        let locals = unsafe { &mut *self.locals.get() };
        f(locals.get_or_insert_with(Box::default))
    }

    /// Drops the task-local values. Called by the task itself as its last act.
    pub(crate) fn clear_locals(&self) {
        // Drop one at a time, with no borrow of the map held while a destructor runs, so a
        // destructor that touches another local still finds it (or re-creates it).
        // SAFETY: as in `with_locals`.
        if unsafe { (*self.locals.get()).is_none() } {
            return;
        }
        while let Some(entry) = self.with_locals(Vec::pop) {
            drop(entry);
        }
    }
}

/// Aborts the process when dropped, which only happens while a panic unwinds out of
/// [`Task::run`] (on the normal path the guard is forgotten). The body catches every panic on
/// the task's own stack, so such a panic is a bug in the runtime: abort rather than run on with
/// a task whose locks are held and whose destructors never ran. The panic hook printed the
/// panic already; this names the coroutine.
struct DieOnUnwind<'a>(&'a Task);

impl Drop for DieOnUnwind<'_> {
    fn drop(&mut self) {
        let task = self.0;
        let name = task
            .name
            .as_deref()
            .map_or_else(String::new, |n| format!(" {n:?}"));
        eprintln!(
            "may: coroutine #{}{name} failed inside the runtime (the panic above); aborting",
            task.id
        );
        std::process::abort();
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coroutine")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    /// The hot part of a task (from `run` to `yielded`) starts at least 64 bytes into the
    /// `Arc`'s allocation and ends at least 63 bytes before its end, so no cache line holding a
    /// hot byte reaches a neighbouring allocation (see "Layout" on [`Task`]).
    #[test]
    fn hot_fields_stay_off_the_neighbours_lines() {
        use super::Task;
        use std::mem::{offset_of, size_of};
        let counters = 2 * size_of::<usize>();
        let hot_start = counters + offset_of!(Task, run);
        let hot_end = counters + offset_of!(Task, yielded) + size_of::<bool>();
        let allocation = counters + size_of::<Task>();
        for (name, offset) in [
            ("activity", offset_of!(Task, activity)),
            ("sp_hint", offset_of!(Task, sp_hint)),
            ("spare_ref", offset_of!(Task, spare_ref)),
            ("slot", offset_of!(Task, slot)),
            ("self_ref", offset_of!(Task, self_ref)),
            ("park_token", offset_of!(Task, park_token)),
        ] {
            let at = counters + offset;
            assert!(
                (hot_start..hot_end).contains(&at),
                "{name} at {at} is outside the hot part {hot_start}..{hot_end}"
            );
        }
        assert!(hot_start >= 64, "the hot part starts at byte {hot_start}");
        assert!(
            hot_end + 63 <= allocation,
            "the hot part ends at byte {hot_end} of a {allocation}-byte allocation"
        );
        // No bigger than before the layout was chosen (272-byte chunks with glibc's malloc),
        // without the optional fields at the end.
        let required = counters + offset_of!(Task, joiners) + size_of::<super::Joiners>();
        assert!(
            required <= 264,
            "a task's allocation grew to {required} bytes"
        );
    }

    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::Task;
    use crate::sync::{mpmc, Mutex};

    /// Waits (bounded) until only the test's own reference to `co` is left: the worker drops its
    /// references right after waking the joiners, so the count settles a moment after `join`.
    fn settles_to_one(co: &Arc<Task>) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(co) > 1 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        Arc::strong_count(co)
    }

    /// A coroutine that blocked in every kind of wait (a rendezvous channel, a contended
    /// mutex, a timer, a join) keeps no reference to itself once finished: its own reference
    /// (`self_ref`), its spare (`spare_ref`) and every borrowed `CurrentWaiter` are balanced.
    #[test]
    fn a_finished_coroutine_keeps_no_reference_to_itself() {
        let (tx, rx) = mpmc::bounded::<u32>(0);
        let lock = Arc::new(Mutex::new(0u32));
        let held = lock.lock().unwrap();
        let lock2 = lock.clone();
        let h = crate::coroutine::spawn(move || {
            let mut sum = 0;
            for _ in 0..3 {
                sum += rx.recv().unwrap();
            }
            *lock2.lock().unwrap() += sum;
            crate::coroutine::sleep(Duration::from_millis(1));
            crate::coroutine::spawn(|| 7).join().unwrap() + sum
        });
        let co = Arc::clone(h.coroutine().task());
        for i in 1..=3 {
            tx.send(i).unwrap();
        }
        drop(held);
        assert_eq!(h.join().unwrap(), 13);
        assert_eq!(*lock.lock().unwrap(), 6);
        assert_eq!(
            settles_to_one(&co),
            1,
            "a reference to the finished coroutine leaked"
        );
    }

    /// The same for a coroutine cancelled while blocked: the wait that unwinds it is completed
    /// by the canceller, which queues it with its own reference.
    #[test]
    fn a_cancelled_coroutine_keeps_no_reference_to_itself() {
        let (_tx, rx) = mpmc::bounded::<u32>(0);
        let (ready_tx, ready_rx) = mpmc::bounded::<()>(1);
        let h = crate::coroutine::spawn(move || {
            ready_tx.send(()).unwrap();
            rx.recv()
        });
        let co = Arc::clone(h.coroutine().task());
        ready_rx.recv().unwrap();
        h.coroutine().cancel();
        assert!(h.join().unwrap_err().is_cancelled());
        assert_eq!(
            settles_to_one(&co),
            1,
            "a reference to the cancelled coroutine leaked"
        );
    }
}
