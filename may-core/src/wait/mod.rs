//! The one blocking primitive every operation is built on, above the task core: wait lists
//! ([`WaitList`]), parking until a deadline with the worker's timers ([`park_task`],
//! `WaiterRef::wait_until_with`), and the wait protocol that every blocking call goes through
//! ([`wait`]).
//!
//! # The protocol
//! A blocking operation first tries to complete without waiting (its fast path, before it calls
//! [`wait`]). If it cannot, [`wait`]:
//! 1. unwinds a task with a pending cancellation (every blocking call is a cancellation point);
//! 2. resets the caller's selected slot and lets the operation register the caller's waiter on
//!    the wait lists of what it waits for; the operation re-checks its condition after
//!    registering and may complete right there;
//! 3. parks until the slot is selected: by a peer that completed the operation, by the timer of
//!    the deadline (`TimedOut`), or by a canceller (`Cancelled`);
//! 4. lets the operation remove its registrations and say whether the wait completed it;
//! 5. unwinds a cancelled task (after step 4, so that nothing it registered stays behind),
//!    returns [`TimedOut`], or goes round again (a spurious wake-up, or a peer that released
//!    something for it to try again).
//!
//! A selection with `Operation` proves only that a notifier popped this registration. When the
//! notifier decided to notify from state that the owner can consume on its own (a token, a
//! counter reaching zero), it may have decided for an earlier wait whose re-check already took
//! that state and returned; `finish` then judges by the state, not by the selection.

mod list;

use std::sync::Arc;
use std::time::Instant;

use crate::task::injection::{self, Point};
use crate::task::{cancel_unwind, Task, WaitReason};
pub(crate) use crate::task::{CurrentWaiter, Selected, Waiter, WaiterRef};
pub(crate) use list::WaitList;

/// What a wait does when its task is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnCancel {
    /// The wait ends with `Selected::Cancelled` and the caller unwinds (every blocking call).
    Unwind,
    /// The wait goes on; the cancellation stays pending for the next blocking call. For waits
    /// that must not end early (waiting for children that cancellation already reached, or for
    /// a job that borrows the waiter's stack) and for `try_` calls, which are no cancellation
    /// points.
    Defer,
    /// As `Defer`, but the wait is a cancellation point that does not unwind: the operation's
    /// `register` and `finish` see the cancellation (`is_cancel_pending`, a `Cancelled`
    /// selection) and end the wait, and the caller passes it on (a scope cancels its children
    /// and waits again).
    Watch,
}

/// What an operation's registration step found.
#[derive(Debug)]
pub(crate) enum Registered<T> {
    /// The waiter is registered: park.
    Waiting,
    /// The operation completed without parking (its condition held when re-checked).
    Done(T),
}

/// The deadline passed before the operation could complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimedOut;

/// Runs the wait protocol (see the module docs) for one blocking operation, recording `reason`
/// as what the caller waits on (for the runtime's dump) while it is parked.
///
/// - `register(me)` registers `me` (use [`CurrentWaiter::registration`] for the reference to
///   put on a list) and re-checks the operation's condition: [`Registered::Done`] when it could
///   complete after all (having removed its registration, or completed its own wait).
/// - `finish(me, sel)` runs after every park: it removes what `register` left behind (unless
///   the peer that selected `me` took it) and returns the result when the wait completed the
///   operation.
///
/// Returns the result, or [`TimedOut`] once `deadline` passed. With [`OnCancel::Unwind`] a
/// cancelled task unwinds from here (after `finish`) and never returns.
///
/// Each call made by a task with `Unwind` or `Watch` is one blocking point for the test-only
/// cancellation injection (`task/injection.rs`).
// Inlined: every return after a stack switch is mispredicted, since the return-stack buffer
// holds the worker's calls, so each frame between a blocking call and the switch costs a miss.
#[inline(always)]
pub(crate) fn wait<T>(
    reason: WaitReason,
    deadline: Option<Instant>,
    on_cancel: OnCancel,
    mut register: impl FnMut(&CurrentWaiter) -> Registered<T>,
    mut finish: impl FnMut(&CurrentWaiter, Selected) -> Option<T>,
) -> Result<T, TimedOut> {
    let me = CurrentWaiter::get();
    if let WaiterRef::Task(task) = &*me {
        if on_cancel != OnCancel::Defer {
            injection::point(task, Point::Wait);
        }
        if on_cancel == OnCancel::Unwind && task.cancel_pending() {
            cancel_unwind(task);
        }
    }
    // Test-only cancellation injection (nothing without its feature): a cancellation meant for
    // a wait that ended without parking arrives right after it.
    let ended = |result| {
        if let WaiterRef::Task(task) = &*me {
            injection::wait_ended(task);
        }
        result
    };
    loop {
        me.waiter().reset();
        if let Registered::Done(value) = register(&me) {
            return ended(Ok(value));
        }
        if let WaiterRef::Task(task) = &*me {
            task.activity.waiting(reason);
            injection::parking(task);
        }
        let sel = me.wait_until_with(deadline, on_cancel);
        if let Some(value) = finish(&me, sel) {
            return ended(Ok(value));
        }
        match sel {
            Selected::Cancelled if on_cancel == OnCancel::Unwind => {
                if let WaiterRef::Task(task) = &*me {
                    cancel_unwind(task);
                }
            }
            Selected::TimedOut => return ended(Err(TimedOut)),
            _ => {}
        }
    }
}

/// Parks the running task until it is unparked or `deadline` passes; spurious returns are
/// possible, callers loop on their own condition.
// Inlined into `wait_until_with`, see `wait`.
#[inline(always)]
pub(crate) fn park_task(task: &Arc<Task>, deadline: Option<Instant>) {
    let Some(deadline) = deadline else {
        task.park();
        return;
    };
    if task.take_token() {
        return;
    }
    let timer = crate::timer::arm(deadline, Arc::clone(task));
    task.park();
    crate::timer::disarm(timer);
}

/// Suspends the caller for at least `duration`: the running task (its worker runs others
/// meanwhile), or the calling thread. A task with a pending cancellation unwinds. A duration too
/// long to represent lasts until the task is cancelled.
pub(crate) fn sleep(duration: std::time::Duration) {
    if !crate::task::in_task() {
        std::thread::sleep(duration);
        return;
    }
    sleep_until(Instant::now().checked_add(duration));
}

/// Suspends the caller until `deadline` (forever when `None`: until a task is cancelled).
pub(crate) fn sleep_until(deadline: Option<Instant>) {
    // Nothing completes this wait but its deadline (a timer) or a cancellation, which unwinds
    // from `wait`.
    let _ = wait(
        WaitReason::Sleep,
        deadline,
        OnCancel::Unwind,
        |_| Registered::<()>::Waiting,
        |_, _| None,
    );
}

/// Parks the caller (the running task, or the calling thread) until it is unparked, or
/// spuriously; no cancellation point. Only for a wait that a peer is certain to end soon (a
/// channel's reserved receiver whose message is on its way).
pub(crate) fn park_current() {
    match crate::task::current() {
        Some(task) => {
            task.activity.waiting(WaitReason::ChannelRecv);
            task.park();
        }
        None => crate::loom::park(),
    }
}

impl WaiterRef {
    /// Parks the owner until its slot is selected or `deadline` passes (then `TimedOut` is
    /// selected if nobody else won first). With [`OnCancel::Unwind`] a task with a pending
    /// cancellation selects `Cancelled` instead of parking; with [`OnCancel::Defer`] or
    /// [`OnCancel::Watch`] a pending cancellation does not end the wait, and a canceller that
    /// won the slot anyway makes it return `Cancelled`, which the caller treats as a spurious
    /// wake-up (it re-checks its condition and waits again) or, watching, as the signal to pass
    /// the cancellation on. Only the owner calls this, after `reset`.
    #[inline(always)]
    pub(crate) fn wait_until_with(
        &self,
        deadline: Option<Instant>,
        on_cancel: OnCancel,
    ) -> Selected {
        let waiter = self.waiter();
        loop {
            if let WaiterRef::Task(task) = self {
                // On every turn: `Task::cancel` sets the flag, tries the slot, then unparks, so
                // a request this load misses makes the next park return.
                if on_cancel == OnCancel::Unwind && task.cancel_pending() {
                    let _ = waiter.try_select(Selected::Cancelled);
                }
            }
            let sel = waiter.selected();
            if sel != Selected::Waiting {
                return sel;
            }
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    if waiter.try_select(Selected::TimedOut).is_ok() {
                        return Selected::TimedOut;
                    }
                    continue;
                }
            }
            match self {
                WaiterRef::Task(task) => park_task(task, deadline),
                WaiterRef::Thread(_) => match deadline {
                    Some(deadline) => crate::loom::park_timeout(
                        deadline.saturating_duration_since(Instant::now()),
                    ),
                    None => crate::loom::park(),
                },
            }
        }
    }
}
