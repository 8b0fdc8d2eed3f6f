//! Spawning: `Builder` and `spawn`.

use std::cell::Cell;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::handle::Coroutine;
use super::inner::CoInner;
use super::join::{JoinHandle, Packet};
use super::{with_current, Cancelled};
use crate::task::context::Context;
use crate::task::stack::{self, checked_stack_size, Stack};

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

    /// Spawns the coroutine. Fails when the stack size is above 1 GiB or the stack cannot be
    /// mapped (for example at the `vm.max_map_count` limit); the error names the cause.
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (co, stack, packet) = self.prepare::<T>(None)?;
        let body = {
            let packet = Arc::clone(&packet);
            move || run_body(f, packet)
        };
        launch(&co, stack, body);
        Ok(JoinHandle::new(Coroutine::from_inner(co), packet))
    }

    /// Spawns a coroutine whose closure and result may borrow data living for `'a`.
    ///
    /// # Safety
    /// The caller must make sure the coroutine finishes before `'a` ends (scopes join every
    /// coroutine they spawned before returning, even when unwinding).
    pub(crate) unsafe fn spawn_scoped<'a, F, T>(
        self,
        f: F,
        scope_panicked: Arc<AtomicBool>,
    ) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'a,
        T: Send + 'a,
    {
        let (co, stack, packet) = self.prepare::<T>(Some(scope_panicked))?;
        let body: Box<dyn FnOnce() + Send + 'a> = {
            let packet = Arc::clone(&packet);
            Box::new(move || run_body(f, packet))
        };
        // SAFETY: only the lifetime is changed; the caller guarantees the coroutine, and so the
        // body and everything it borrows, is finished before 'a ends.
        let body: Box<dyn FnOnce() + Send + 'static> = unsafe { std::mem::transmute(body) };
        launch(&co, stack, body);
        Ok(JoinHandle::new(Coroutine::from_inner(co), packet))
    }

    fn prepare<T>(
        self,
        scope_panicked: Option<Arc<AtomicBool>>,
    ) -> io::Result<(Arc<CoInner>, Stack, Arc<Packet<T>>)> {
        let default_size = crate::config().stack_size();
        let stack_size = checked_stack_size(self.stack_size.unwrap_or(default_size))?;
        let mut stack = stack::allocate(stack_size)?;
        if self.measure_stack {
            stack.fill_for_measurement();
        }
        let id = next_id();
        let co = Arc::new(CoInner::new(
            id,
            self.name,
            stack_size,
            self.measure_stack,
            stack.guard(),
        ));
        Ok((co, stack, Arc::new(Packet::new(scope_panicked))))
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

/// Gives the coroutine its context, running `body` on `stack`, and hands it to the scheduler.
fn launch(co: &Arc<CoInner>, stack: Stack, body: impl FnOnce() + Send + 'static) {
    let context = Context::new(stack, move |suspender| {
        with_current(|co| match co {
            // SAFETY: the coroutine itself, on its home worker, before anything reads it.
            Some(co) => unsafe { *co.suspender.get() = Some(suspender) },
            None => unreachable!("a coroutine's body runs with its coroutine current"),
        });
        body()
    });
    // SAFETY: `co` is not shared with anyone yet, so this thread is the only accessor.
    unsafe { *co.context.get() = Some(context) };
    crate::scheduler::submit(Arc::clone(co));
}

/// The body every coroutine runs: the user's closure with its panic caught, then the cleanup
/// of coroutine-locals, all on the coroutine's own stack.
fn run_body<F, T>(f: F, packet: Arc<Packet<T>>)
where
    F: FnOnce() -> T,
{
    let cancelled_early = with_current(|co| co.is_some_and(CoInner::cancel_pending));
    let result = if cancelled_early {
        drop(f);
        Err(Box::new(Cancelled) as Box<dyn std::any::Any + Send>)
    } else {
        panic::catch_unwind(AssertUnwindSafe(f))
    };
    // A panicking destructor of a coroutine-local must not escape the coroutine either.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        with_current(|co| {
            if let Some(co) = co {
                co.clear_locals();
            }
        })
    }));
    packet.set(result);
}

/// Spawns a coroutine with the default configuration and returns its join handle.
///
/// The closure runs on one of the runtime's workers, which start on first use. Once started, a
/// coroutine stays on its worker, so values that are not `Send` (an `Rc`, a `thread_local!`
/// reference) may be held across blocking calls inside it.
///
/// # Panics
/// When the stack cannot be mapped (see [`Builder::spawn`] for the fallible version).
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
