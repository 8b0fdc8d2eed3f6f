//! Living with async code: run a `Future` to completion from a coroutine or a thread
//! ([`block_on`]); the other direction, a coroutine's result as a future, is
//! `JoinHandle`'s `IntoFuture` (`handle.await`).
//!
//! Inside a coroutine `block_on` parks the coroutine, not its worker, and the future's `Waker`
//! wakes it; on a plain thread it parks the thread. The future is polled on the caller's own
//! stack, so it may borrow from it. Futures that need a particular executor's reactor (tokio's
//! sockets and timers) need that executor running somewhere: see docs/observability.md, "Async
//! code", for calling tokio-based libraries.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, TimedOut, WaitList};

/// What a future's waker does: note the wake-up and unpark whoever waits.
struct Signal {
    woken: AtomicBool,
    waiters: WaitList,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.waiters.notify_one();
    }
}

/// The time ran out before the future completed (see [`block_on_timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the future did not complete in time")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `fut` to completion and returns its output. In a coroutine the coroutine parks while the
/// future is pending (its worker runs others) and its `Waker` wakes it; on a plain thread the
/// thread parks. A cancelled coroutine unwinds from here, dropping the future.
///
/// ```
/// let v = may_core::future::block_on(async { 40 + 2 });
/// assert_eq!(v, 42);
/// let h = may_core::coroutine::spawn(|| may_core::future::block_on(async { "from a coroutine" }));
/// assert_eq!(h.join().unwrap(), "from a coroutine");
/// ```
pub fn block_on<F: Future>(fut: F) -> F::Output {
    match run(fut, None) {
        Ok(output) => output,
        Err(Elapsed) => unreachable!("no deadline"),
    }
}

/// Like [`block_on`], giving up after `timeout`: the future is dropped and `Err(Elapsed)` is
/// returned.
pub fn block_on_timeout<F: Future>(fut: F, timeout: Duration) -> Result<F::Output, Elapsed> {
    run(fut, Some(Instant::now().checked_add(timeout)))
}

/// `deadline`: `None` for none, `Some(None)` for one too far to represent.
fn run<F: Future>(fut: F, deadline: Option<Option<Instant>>) -> Result<F::Output, Elapsed> {
    crate::task::cancel_point();
    let signal = Arc::new(Signal {
        woken: AtomicBool::new(false),
        waiters: WaitList::new(),
    });
    let waker = Waker::from(Arc::clone(&signal));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    let deadline = deadline.flatten();
    loop {
        if let Poll::Ready(output) = fut.as_mut().poll(&mut cx) {
            return Ok(output);
        }
        let woken = wait::wait(
            WaitReason::Future,
            deadline,
            OnCancel::Unwind,
            |me| {
                signal.waiters.register(me.registration(), 0);
                // A wake-up during the poll (or since) means poll again at once.
                if signal.woken.swap(false, Ordering::SeqCst) {
                    signal.waiters.unregister(me);
                    return Registered::Done(());
                }
                Registered::Waiting
            },
            |me, sel| {
                signal.waiters.unregister(me);
                let woken = signal.woken.swap(false, Ordering::SeqCst);
                (woken || matches!(sel, Selected::Operation(_))).then_some(())
            },
        );
        if let Err(TimedOut) = woken {
            return Err(Elapsed);
        }
    }
}
