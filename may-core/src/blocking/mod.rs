//! A bounded thread pool for blocking work, so that it never stalls a worker.
//!
//! Jobs go to a FIFO queue served by a bounded number of threads (`Config::blocking_threads`,
//! 64 by default), started on demand; a thread
//! idle for [`KEEP_ALIVE`] exits. The caller (a coroutine or a thread) waits on the job's
//! completion through the one wait primitive, so a coroutine parks while its worker keeps
//! running others. DNS resolution of the net types goes through [`run_scoped`].

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use crate::task::cancel_point;
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, WaitList};

/// How long a pool thread waits for a job before it exits.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Pool {
    state: Mutex<PoolState>,
    job_ready: Condvar,
}

struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(PoolState {
            jobs: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        job_ready: Condvar::new(),
    })
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // Jobs run outside the lock (and inside catch_unwind), so poisoning cannot happen.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`; gives it back when no pool thread exists to run it (none could be
    /// started), so that the caller runs it itself rather than waiting forever.
    fn submit(&'static self, job: Job) -> Result<(), Job> {
        crate::runtime::count_blocking_job();
        let mut state = self.lock();
        if state.idle > 0 {
            state.jobs.push_back(job);
            self.job_ready.notify_one();
            return Ok(());
        }
        if state.threads < crate::runtime::config().blocking_threads() {
            state.threads += 1;
            let started = std::thread::Builder::new()
                .name("may-blocking".into())
                .spawn(move || self.serve());
            if let Err(err) = started {
                state.threads -= 1;
                log::error!("may: cannot start a blocking-pool thread: {err}");
                if state.threads == 0 {
                    return Err(job);
                }
            }
        }
        // A busy thread (or the one just started) picks it up.
        state.jobs.push_back(job);
        Ok(())
    }

    fn serve(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                job();
                state = self.lock();
                continue;
            }
            state.idle += 1;
            let (next, timeout) = self
                .job_ready
                .wait_timeout(state, KEEP_ALIVE)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.jobs.is_empty() {
                state.threads -= 1;
                return;
            }
        }
    }
}

/// The result slot of one job and the waiter of its caller.
struct Completion<R> {
    result: Mutex<Option<std::thread::Result<R>>>,
    done: AtomicBool,
    waiters: WaitList,
}

impl<R> Completion<R> {
    fn finish(&self, result: std::thread::Result<R>) {
        *self.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        self.done.store(true, Ordering::Release);
        // One at a time: `notify_one` selects under the list lock, so a waiter that already
        // unregistered can never be selected late.
        while self.waiters.notify_one() {}
    }

    /// Waits until the job finished. With [`OnCancel::Unwind`] a cancelled task unwinds at
    /// once; with [`OnCancel::Defer`] the wait ignores cancellation (the job may borrow the
    /// caller's stack) and the cancellation is honoured once the job is done.
    fn wait(&self, on_cancel: OnCancel) -> std::thread::Result<R> {
        let waited = wait::wait(
            WaitReason::BlockingPool,
            None,
            on_cancel,
            |me| {
                if self.done.load(Ordering::Acquire) {
                    return Registered::Done(());
                }
                self.waiters.register(me.registration(), 0);
                if self.done.load(Ordering::Acquire) {
                    self.waiters.unregister(me);
                    return Registered::Done(());
                }
                Registered::Waiting
            },
            |me, _| {
                self.waiters.unregister(me);
                self.done.load(Ordering::Acquire).then_some(())
            },
        );
        if waited.is_err() {
            unreachable!("a wait without a deadline does not time out");
        }
        let taken = self.result.lock().unwrap_or_else(|e| e.into_inner()).take();
        if on_cancel == OnCancel::Defer {
            cancel_point();
        }
        match taken {
            Some(result) => result,
            None => unreachable!("a blocking job completes exactly once"),
        }
    }
}

fn new_completion<R>() -> Arc<Completion<R>> {
    Arc::new(Completion {
        result: Mutex::new(None),
        done: AtomicBool::new(false),
        waiters: WaitList::new(),
    })
}

/// Runs `f` on the pool and waits for it; `Err` carries its panic payload.
pub(crate) fn run<F, R>(f: F) -> std::thread::Result<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let completion = new_completion();
    let theirs = Arc::clone(&completion);
    let job: Job = Box::new(move || {
        theirs.finish(panic::catch_unwind(AssertUnwindSafe(f)));
    });
    if let Err(job) = pool().submit(job) {
        job();
    }
    completion.wait(OnCancel::Unwind)
}

/// Runs `f`, which may borrow from the caller, on the pool and waits for it to finish even if
/// the calling coroutine is cancelled meanwhile (it unwinds afterwards). A panic in `f` is
/// resumed in the caller.
pub(crate) fn run_scoped<'a, F, R>(f: F) -> R
where
    F: FnOnce() -> R + Send + 'a,
    R: Send + 'a,
{
    let completion = new_completion::<R>();
    let theirs = Arc::clone(&completion);
    let job: Box<dyn FnOnce() + Send + 'a> = Box::new(move || {
        theirs.finish(panic::catch_unwind(AssertUnwindSafe(f)));
    });
    // SAFETY: the job borrows data living for 'a; `wait(OnCancel::Defer)` below returns only after the
    // job has run to completion (its `finish` is the last thing it does with borrowed data,
    // and the completion itself is kept alive by the job's own `Arc`), and it does not unwind
    // before then, not even on cancellation. So the borrows outlive every use.
    let job: Job = unsafe { std::mem::transmute::<Box<dyn FnOnce() + Send + 'a>, Job>(job) };
    if let Err(job) = pool().submit(job) {
        job();
    }
    match completion.wait(OnCancel::Defer) {
        Ok(value) => value,
        Err(payload) => panic::resume_unwind(payload),
    }
}
