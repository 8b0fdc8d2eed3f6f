//! Parking and waking a task, and its side of a switch: the park token's moves, yielding,
//! switching back to the worker, and the prefetches that make the worker's next switch in cheap.
//! `unpark` and `unpark_owned` may be called from anywhere, the prefetches by the task's worker
//! between resumes; everything else by the task itself, while it runs on its home worker.

use std::sync::Arc;

use super::{schedule, Task};

impl Task {
    /// Makes the park token available; schedules the task if it was parked.
    pub(crate) fn unpark(self: &Arc<Self>) {
        if self.park_token.unpark() {
            schedule::schedule(Arc::clone(self));
        }
    }

    /// Like [`unpark`](Task::unpark), for a caller that owns a reference it no longer needs:
    /// that reference goes to the ready queue instead of a new one (saves two reference-count
    /// updates per wake-up on the channel and lock hot paths).
    pub(crate) fn unpark_owned(self: Arc<Self>) {
        if self.park_token.unpark() {
            schedule::schedule(self);
        }
    }

    /// Consumes an available token without parking; true if there was one.
    pub(crate) fn take_token(&self) -> bool {
        self.park_token.take()
    }

    /// Parks the running task (itself) until its token is made available, consuming it; returns
    /// at once if it was available. Spurious returns are possible; callers loop on their own
    /// condition.
    // Inlined: every return after a stack switch is mispredicted (the return-stack buffer holds
    // the other stack's calls), so each frame between a blocking call and the switch costs a
    // miss.
    #[inline(always)]
    pub(crate) fn park(&self) {
        // An available token makes `announce_park` fail, consuming it.
        if self.park_token.announce_park() {
            self.switch_out();
            self.park_token.consume_wake();
        }
    }

    /// Switches out to be queued behind the others ready on its worker: the worker does the
    /// queueing as the switch returns (see `Ran::Yielded`), with the reference it resumed the
    /// task with, so a yield touches no reference count and skips the scheduler hook.
    pub(crate) fn yield_now(&self) {
        self.assert_on_own_stack();
        self.activity.ready();
        // SAFETY: the task itself, while it runs on its home worker (see the field's invariant).
        unsafe { *self.yielded.get() = true };
        self.switch_out();
    }

    /// Whether the caller runs on this task's own stack (not inside a generator or another
    /// stackful coroutine it drives). Called by the task itself.
    #[inline]
    pub(crate) fn on_own_stack(&self) -> bool {
        // SAFETY: only the task itself reads its suspender, and it is set before its body runs.
        let suspender = unsafe { *self.suspender.get() };
        suspender.is_some_and(|s| s.contains_caller())
    }

    /// Panics (in the task) when a blocking call is made off the task's own stack: switching
    /// out from there would suspend the wrong stack. Blocking calls check this before they
    /// register anywhere.
    #[inline]
    pub(crate) fn assert_on_own_stack(&self) {
        if !self.on_own_stack() {
            foreign_stack(self);
        }
    }

    /// Switches back to the worker; returns when the worker resumes the task. The caller
    /// arranged for someone to queue it again (or queued it itself). Called by the task itself.
    #[inline(always)]
    fn switch_out(&self) {
        let probe = 0u8;
        // SAFETY: the task itself writes its hint (see the field's invariant).
        unsafe { *self.sp_hint.get() = std::hint::black_box(&probe) as *const u8 as usize };
        // SAFETY: as in `on_own_stack`.
        let suspender = unsafe { *self.suspender.get() };
        let Some(suspender) = suspender else {
            unreachable!("a running task has its suspender");
        };
        // SAFETY: called by this task while it runs (see above).
        if unsafe { suspender.suspend() }.is_err() {
            foreign_stack(self);
        }
    }

    /// Brings the task's own lines into the cache, ahead of [`prefetch_stack`]: a worker calls
    /// it for the task it will run after the next one. Callable from any thread (it reads
    /// nothing).
    ///
    /// [`prefetch_stack`]: Task::prefetch_stack
    #[inline]
    pub(crate) fn prefetch(&self) {
        let me = self as *const Task as usize;
        for line in 0..std::mem::size_of::<Task>().div_ceil(64) {
            crate::sys::prefetch(me + line * 64);
        }
    }

    /// Brings the top of the task's stack, where it switched out, into the cache: a worker calls
    /// it for the task it will run next, while it still runs the current one (a switch among
    /// many tasks otherwise waits on those loads). It reads the task's stack hint, so the task
    /// itself should have been prefetched a turn earlier. Called by the task's home worker
    /// between resumes.
    #[inline]
    pub(crate) fn prefetch_stack(&self) {
        // SAFETY: the home worker reads the hint between resumes (see the field's invariant).
        let sp = unsafe { *self.sp_hint.get() };
        if sp != 0 {
            // The registers saved by the switch lie a little below the hint; the frames the
            // task returns through, a little above.
            for offset in [-128isize, -64, 0, 64] {
                crate::sys::prefetch(sp.wrapping_add_signed(offset));
            }
        }
    }

    /// The spare reference for a wait-list registration, or a clone. Called by the task itself.
    pub(crate) fn take_spare_ref(&self) -> Arc<Task> {
        // SAFETY: the task itself, while it runs on its home worker: the only accessor then.
        let spare = unsafe { (*self.spare_ref.get()).take() };
        spare.unwrap_or_else(|| self.arc())
    }
}

#[cold]
#[inline(never)]
fn foreign_stack(task: &Task) -> ! {
    panic!(
        "may: a blocking call (channel, lock, sleep, I/O, join, yield, ...) was made on a stack \
         that is not coroutine #{}'s own, inside a generator or stackful coroutine it drives; \
         may can only switch a coroutine out from its own stack: drive the generator from its \
         own may coroutine, or make the call outside it",
        task.id
    )
}
