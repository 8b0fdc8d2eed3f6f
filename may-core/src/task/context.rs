//! The context switch: a coroutine's stack and saved registers, on corosensei. Nothing else in
//! the runtime knows which crate switches stacks.

use std::ptr::NonNull;

use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::stack::Stack;
use crate::sys::valgrind::StackRegistration;

type Inner = Coroutine<(), (), (), Stack>;

/// A coroutine's execution context: created with its body, resumed by its worker until the body
/// returns, then its stack is handed back.
pub(crate) struct Context {
    /// `None` once the body returned and the stack was taken back.
    inner: Option<Inner>,
    /// The stack, registered with valgrind while the context lives (nothing outside valgrind):
    /// switching stacks is then not mistaken for a giant frame.
    _valgrind: StackRegistration,
}

/// What a [`Context::resume`] came back with.
pub(crate) enum Resumed {
    /// The coroutine suspended itself and will be resumed later.
    Suspended,
    /// The body returned; here is its stack.
    Finished(Stack),
}

/// The coroutine's way back to its resumer, valid while the coroutine runs on its own stack.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Suspender {
    /// The parent link corosensei keeps at the top of the coroutine's stack.
    yielder: NonNull<Yielder<(), ()>>,
    /// The usable stack, `[bottom, top)`, to recognise a call made on some other stack.
    bottom: usize,
    top: usize,
}

/// A blocking call was made on a stack that is not the coroutine's own (inside a generator or
/// another stackful coroutine that the coroutine drives): switching out from there would
/// suspend the wrong stack.
#[derive(Debug)]
pub(crate) struct ForeignStack;

impl Suspender {
    /// Switches back to the resumer; returns when the coroutine is resumed again.
    ///
    /// # Safety
    /// Called by the coroutine this suspender was given to, while it runs (not after its body
    /// returned).
    #[inline(always)]
    pub(crate) unsafe fn suspend(&self) -> Result<(), ForeignStack> {
        if !self.contains_caller() {
            return Err(ForeignStack);
        }
        // SAFETY: the yielder lives at the top of the coroutine's stack for as long as its body
        // runs (guaranteed by the caller), and we are on that stack (checked above), so this
        // suspends exactly this coroutine.
        unsafe { self.yielder.as_ref().suspend(()) };
        Ok(())
    }
}

impl Suspender {
    /// The lowest address of the usable stack (the guard page is right below it).
    pub(crate) fn stack_bottom(&self) -> usize {
        self.bottom
    }

    /// Whether the caller runs on the coroutine's own stack.
    #[inline(always)]
    pub(crate) fn contains_caller(&self) -> bool {
        let probe = 0u8;
        let here = std::hint::black_box(&probe) as *const u8 as usize;
        here >= self.bottom && here < self.top
    }
}

impl Context {
    /// A context that runs `body` on `stack` when first resumed. `body` receives the
    /// [`Suspender`] to switch out with.
    pub(crate) fn new(stack: Stack, body: impl FnOnce(Suspender) + Send + 'static) -> Context {
        let (bottom, top) = (stack.bottom(), stack.base());
        let valgrind = StackRegistration::new(bottom, top);
        let inner = Coroutine::with_stack(stack, move |yielder: &Yielder<(), ()>, ()| {
            body(Suspender {
                yielder: NonNull::from(yielder),
                bottom,
                top,
            })
        });
        Context {
            inner: Some(inner),
            _valgrind: valgrind,
        }
    }

    /// Runs the coroutine until it suspends itself or its body returns. A panic escaping the
    /// body continues in the caller.
    #[inline]
    pub(crate) fn resume(&mut self) -> Resumed {
        let Some(inner) = self.inner.as_mut() else {
            unreachable!("a finished coroutine is never resumed");
        };
        match inner.resume(()) {
            CoroutineResult::Yield(()) => Resumed::Suspended,
            CoroutineResult::Return(()) => match self.inner.take() {
                Some(inner) => Resumed::Finished(inner.into_stack()),
                None => unreachable!("taken only here"),
            },
        }
    }
}
