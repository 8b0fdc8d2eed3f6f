//! Spawning: `Builder`, `spawn`, `spawn_blocking`, and what a spawned coroutine carries until
//! it is joined (`Spawned`: its body until it runs, then its result).

use std::cell::{Cell, UnsafeCell};
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::handle::Coroutine;
use super::join::{JoinHandle, Outcome};
use crate::task::stack::checked_stack_size;
use crate::task::{is_cancel_pending, with_current, Cancelled, Start, Task};

/// Configures a coroutine before spawning it: name, stack size, stack measurement.
///
/// ```
/// use may_core::coroutine::Builder;
/// let h = Builder::new().name("adder").stack_size(16 * 1024).spawn(|| 1 + 1).unwrap();
/// assert_eq!(h.coroutine().stack_size(), 16 * 1024);
/// assert_eq!(h.join().unwrap(), 2);
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a Builder does nothing until `spawn` is called"]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
    measure_stack: bool,
}

impl Builder {
    /// A builder with the defaults: no name, the configured default stack size.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the coroutine (shown in panic and stack-overflow messages).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Sets the stack size in bytes. It is rounded up to whole pages, and sizes below
    /// [`MIN_STACK_SIZE`](super::MIN_STACK_SIZE) are raised to it; sizes above 1 GiB make
    /// `spawn` fail.
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Measures how much of its stack the coroutine uses. When it finishes, the number of bytes
    /// is available from [`Coroutine::stack_used`] and is printed to stderr as one line. This
    /// touches every page of the stack, so use it for tuning, not in production.
    pub fn measure_stack(mut self, measure: bool) -> Builder {
        self.measure_stack = measure;
        self
    }

    /// Spawns the coroutine. Fails when the stack size is above 1 GiB.
    ///
    /// The coroutine gets its stack when it first runs, on the worker that runs it: spawning a
    /// burst costs no stacks until the coroutines run, and the stacks of finished ones are
    /// reused. If no stack can be had then (the system is out of memory or of memory mappings),
    /// the coroutine finishes without running and its `join` returns an error whose message
    /// says why.
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let spawned = Arc::new(Spawned::new(f, None));
        let task = self.task(Arc::clone(&spawned) as Arc<dyn Start>)?;
        crate::runtime::scheduler().submit(Arc::clone(&task));
        Ok(JoinHandle::new(Coroutine::from_task(task), spawned))
    }

    /// Spawns a coroutine whose closure and result may borrow data living for `'a`.
    ///
    /// # Safety
    /// The caller must make sure the coroutine finishes before `'a` ends (scopes join every
    /// coroutine they spawned before returning, even when unwinding or cancelled), and that the
    /// returned handle does not outlive `'a`.
    pub(crate) unsafe fn spawn_scoped<'a, F, T>(
        self,
        f: F,
        scope_panicked: Arc<AtomicBool>,
    ) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'a,
        T: Send + 'a,
    {
        let spawned = Arc::new(Spawned::new(f, Some(scope_panicked)));
        let start: Arc<dyn Start + 'a> = Arc::clone(&spawned) as Arc<dyn Start + 'a>;
        let outcome: Arc<dyn Outcome<T> + 'a> = spawned;
        // SAFETY: only the lifetime is changed; the caller guarantees that the coroutine (which
        // drops its `start` before it finishes) and the handle (which holds `outcome`) are done
        // with the body, the result and everything they borrow before 'a ends.
        let (start, outcome) = unsafe {
            (
                std::mem::transmute::<Arc<dyn Start + 'a>, Arc<dyn Start>>(start),
                std::mem::transmute::<Arc<dyn Outcome<T> + 'a>, Arc<dyn Outcome<T>>>(outcome),
            )
        };
        let task = self.task(start)?;
        crate::runtime::scheduler().submit(Arc::clone(&task));
        Ok(JoinHandle::from_outcome(
            Coroutine::from_task(task),
            outcome,
        ))
    }

    fn task(self, start: Arc<dyn Start>) -> io::Result<Arc<Task>> {
        let default_size = crate::runtime::config().stack_size();
        let stack_size = checked_stack_size(self.stack_size.unwrap_or(default_size))?;
        Ok(Task::new(
            next_id(),
            self.name.map(String::into_boxed_str),
            stack_size,
            self.measure_stack,
            start,
        ))
    }
}

/// A new coroutine id. Each thread takes ids from the global counter in blocks, so spawning on
/// several workers does not contend on one cache line.
fn next_id() -> u64 {
    const BLOCK: u64 = 1024;
    static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    RANGE.with(|range| {
        let (mut next, mut end) = range.get();
        if next == end {
            next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
            end = next + BLOCK;
        }
        range.set((next + 1, end));
        next
    })
}

/// A spawned coroutine's body until it runs, then its result until it is joined: one
/// allocation shared by the task (as its [`Start`]) and the join handle (as its [`Outcome`]).
pub(crate) struct Spawned<F, T> {
    /// # Invariant
    /// Taken once, by the task (when it runs it, or abandons it), on its home worker.
    body: UnsafeCell<Option<F>>,
    /// # Invariant
    /// Written once by the task before it is marked done (release), read only by the joiner
    /// after it saw that (acquire).
    result: UnsafeCell<Option<std::thread::Result<T>>>,
    /// Set when a scoped coroutine's result is dropped holding an unobserved panic.
    scope_panicked: Option<Arc<AtomicBool>>,
}

// SAFETY: `body` is only touched by the task, `result` by the task and then (after `done`) the
// joiner, as the invariants say; `F` and `T` cross threads, hence `Send`.
unsafe impl<F: Send, T: Send> Sync for Spawned<F, T> {}

impl<F, T> Spawned<F, T> {
    fn new(f: F, scope_panicked: Option<Arc<AtomicBool>>) -> Spawned<F, T> {
        Spawned {
            body: UnsafeCell::new(Some(f)),
            result: UnsafeCell::new(None),
            scope_panicked,
        }
    }

    fn take_body(&self) -> Option<F> {
        // SAFETY: only the task touches the body (see the invariant).
        unsafe { (*self.body.get()).take() }
    }

    fn set_result(&self, result: std::thread::Result<T>) {
        // SAFETY: the joiner does not read before the task is done, which happens after this.
        unsafe { *self.result.get() = Some(result) };
    }
}

impl<F, T> Start for Spawned<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(&self) {
        let Some(f) = self.take_body() else {
            unreachable!("a coroutine's body runs once");
        };
        let result = if is_cancel_pending() {
            // Cancelled before it started: it never runs.
            drop(f);
            Err(Box::new(Cancelled) as Box<dyn std::any::Any + Send>)
        } else {
            panic::catch_unwind(AssertUnwindSafe(f))
        };
        // A panicking destructor of a coroutine-local must not escape the coroutine either.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            with_current(|task| {
                if let Some(task) = task {
                    task.clear_locals();
                }
            })
        }));
        self.set_result(result);
    }

    fn abandon(&self, why: io::Error) {
        drop(self.take_body());
        let message = format!("may: a coroutine could not start: {why}");
        eprintln!("{message}");
        self.set_result(Err(Box::new(message)));
    }
}

impl<F, T> Outcome<T> for Spawned<F, T>
where
    F: Send,
    T: Send,
{
    fn take(&self) -> Option<std::thread::Result<T>> {
        // SAFETY: called by the joiner after it saw the task done (acquire), so the write is
        // visible and the task no longer touches the slot.
        unsafe { (*self.result.get()).take() }
    }
}

impl<F, T> Drop for Spawned<F, T> {
    fn drop(&mut self) {
        if let Some(flag) = &self.scope_panicked {
            // A cancelled scoped coroutine (a losing `select!` branch, a scope unwinding) did
            // not fail; only a panic nobody observed makes the scope panic.
            if matches!(self.result.get_mut(), Some(Err(p)) if !p.is::<Cancelled>()) {
                flag.store(true, Ordering::Release);
            }
        }
    }
}

/// Spawns a coroutine with the default configuration and returns its join handle.
///
/// The closure runs on one of the runtime's workers, which start on first use. Once started, a
/// coroutine stays on its worker, so values that are not `Send` (an `Rc`, a `thread_local!`
/// reference) may be held across blocking calls inside it.
///
/// # Panics
/// When the configured default stack size is invalid (see [`Builder::spawn`] for the
/// fallible version).
///
/// ```
/// let h = may_core::coroutine::spawn(|| 6 * 7);
/// assert_eq!(h.join().unwrap(), 42);
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().spawn(f) {
        Ok(handle) => handle,
        Err(err) => panic!("may: failed to spawn a coroutine: {err}"),
    }
}

/// Runs blocking work (file I/O, a C library call, CPU-heavy hashing) on the runtime's bounded
/// thread pool and returns a handle to its result. Joining from a coroutine parks the coroutine;
/// its worker keeps running others.
///
/// The work runs in a coroutine that waits for the pool thread; a panic in `f` makes `join`
/// return an error carrying the payload. Cancelling that coroutine stops the wait, not `f`.
///
/// ```
/// use may_core::coroutine;
///
/// let handle = coroutine::spawn_blocking(|| std::fs::metadata(".").is_ok());
/// assert!(handle.join().unwrap());
/// ```
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn(move || match crate::blocking::run(f) {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
    })
}
