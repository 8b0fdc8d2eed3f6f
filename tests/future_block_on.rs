//! Living with async code: `future::block_on` from coroutines and threads, with wake-ups from
//! other threads, timeouts and cancellation; a `JoinHandle` awaited as a future.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use may::coroutine;
use may::future::{block_on, block_on_timeout, Elapsed};

/// A one-shot value set from anywhere; its future completes once the value is there.
#[derive(Default)]
struct Slot {
    state: Mutex<(Option<u64>, Option<Waker>)>,
}

impl Slot {
    fn set(&self, v: u64) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            state.0 = Some(v);
            state.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn get(self: &Arc<Self>) -> SlotFuture {
        SlotFuture {
            slot: Arc::clone(self),
            drops: None,
        }
    }
}

struct SlotFuture {
    slot: Arc<Slot>,
    /// Counts the future's drop, to check a cut-short wait drops it.
    drops: Option<Arc<AtomicUsize>>,
}

impl Future for SlotFuture {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let mut state = self.slot.state.lock().unwrap();
        match state.0 {
            Some(v) => Poll::Ready(v),
            None => {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for SlotFuture {
    fn drop(&mut self) {
        if let Some(d) = &self.drops {
            d.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A future pending `n` times, waking itself each time (a yielding async task).
struct YieldTimes(u32);

impl Future for YieldTimes {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.0 == 0 {
            return Poll::Ready(7);
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn block_on_a_thread_woken_from_another_thread() {
    let slot = Arc::new(Slot::default());
    let setter = {
        let slot = Arc::clone(&slot);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            slot.set(41);
        })
    };
    assert_eq!(block_on(slot.get()) + 1, 42);
    setter.join().unwrap();
}

/// 1,000 coroutines each wait on their own future; plain threads complete them in a random-ish
/// order. Every coroutine gets its own value back and the workers stay free meanwhile.
#[test]
fn block_on_in_many_coroutines() {
    const N: u64 = 1_000;
    let slots: Vec<Arc<Slot>> = (0..N).map(|_| Arc::new(Slot::default())).collect();
    let handles: Vec<_> = slots
        .iter()
        .map(|slot| {
            let slot = Arc::clone(slot);
            coroutine::spawn(move || block_on(slot.get()))
        })
        .collect();
    // While they wait, another coroutine still runs: the workers are not blocked.
    assert_eq!(coroutine::spawn(|| 5).join().unwrap(), 5);
    let setters: Vec<_> = (0..4u64)
        .map(|part| {
            let slots: Vec<_> = slots
                .iter()
                .skip(part as usize)
                .step_by(4)
                .cloned()
                .collect();
            std::thread::spawn(move || {
                for (i, slot) in slots.iter().enumerate().rev() {
                    slot.set(part + 4 * i as u64);
                }
            })
        })
        .collect();
    for s in setters {
        s.join().unwrap();
    }
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(total, N * (N - 1) / 2);
}

#[test]
fn self_waking_future_polls_again() {
    assert_eq!(block_on(YieldTimes(1_000)), 7);
    let h = coroutine::spawn(|| block_on(YieldTimes(1_000)));
    assert_eq!(h.join().unwrap(), 7);
}

#[test]
fn timeout_drops_the_future() {
    for in_coroutine in [false, true] {
        let drops = Arc::new(AtomicUsize::new(0));
        let fut = SlotFuture {
            slot: Arc::new(Slot::default()),
            drops: Some(Arc::clone(&drops)),
        };
        let run = move || block_on_timeout(fut, Duration::from_millis(30));
        let r = if in_coroutine {
            coroutine::spawn(run).join().unwrap()
        } else {
            run()
        };
        assert_eq!(r, Err(Elapsed));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
    // In time: the value, not Elapsed.
    assert_eq!(block_on_timeout(async { 3 }, Duration::ZERO), Ok(3));
    assert_eq!(Elapsed.to_string(), "the future did not complete in time");
}

/// Cancelling a coroutine waiting in `block_on` unwinds it and drops the future.
#[test]
fn cancel_while_waiting_drops_the_future() {
    let drops = Arc::new(AtomicUsize::new(0));
    let slot = Arc::new(Slot::default());
    let fut = SlotFuture {
        slot: Arc::clone(&slot),
        drops: Some(Arc::clone(&drops)),
    };
    let h = coroutine::Builder::new()
        .name("awaits-forever")
        .spawn(move || block_on(fut))
        .unwrap();
    let waiting = || {
        may::runtime::dump().iter().any(|c| {
            c.name.as_deref() == Some("awaits-forever")
                && matches!(
                    c.state,
                    may::runtime::CoroutineState::Waiting {
                        on: may::runtime::WaitReason::Future,
                        ..
                    }
                )
        })
    };
    while !waiting() {
        std::thread::sleep(Duration::from_millis(1));
    }
    h.coroutine().cancel();
    let err = h.join().unwrap_err();
    assert!(err.is_cancelled(), "{err}");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // A late wake-up of the dropped future's waker is harmless.
    slot.set(1);
}

#[test]
fn join_handle_as_a_future() {
    // From a thread.
    let h = coroutine::spawn(|| {
        coroutine::sleep(Duration::from_millis(10));
        6 * 7
    });
    assert_eq!(block_on(async move { h.await.unwrap() }), 42);

    // From a coroutine, awaiting several: the sum of all.
    let sum = coroutine::spawn(|| {
        let hs: Vec<_> = (0..100u64)
            .map(|i| {
                coroutine::spawn(move || {
                    coroutine::yield_now();
                    i
                })
            })
            .collect();
        block_on(async move {
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        })
    });
    assert_eq!(sum.join().unwrap(), 4950);

    // A panic comes back as the join error.
    let h = coroutine::spawn(|| -> u32 { panic!("boom") });
    let err = block_on(async move { h.await }).unwrap_err();
    assert!(err.is_panic(), "{err}");
}

/// A JoinFuture dropped before its coroutine ends leaves nothing behind: the coroutine still
/// runs to completion and its result is dropped.
#[test]
fn dropped_join_future_does_not_leak() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let gate = Arc::new(Slot::default());
    let h = {
        let (drops, gate) = (Arc::clone(&drops), Arc::clone(&gate));
        coroutine::spawn(move || {
            block_on(gate.get());
            Counted(drops)
        })
    };
    let r = block_on_timeout(
        std::future::IntoFuture::into_future(h),
        Duration::from_millis(20),
    );
    assert!(r.is_err());
    gate.set(0);
    let start = std::time::Instant::now();
    while drops.load(Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "result never dropped"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// An executor-free async library (async-channel) from coroutines and threads: a bounded
/// channel between coroutines, both sides going through `block_on`; every message arrives.
#[test]
fn async_channel_between_coroutines_and_threads() {
    const N: u64 = 10_000;
    let (tx, rx) = async_channel::bounded::<u64>(1);
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let tx = tx.clone();
            coroutine::spawn(move || {
                for i in (p..N).step_by(4) {
                    block_on(tx.send(i)).unwrap();
                }
            })
        })
        .collect();
    let thread_tx = tx.clone();
    let thread_producer = std::thread::spawn(move || block_on(thread_tx.send(N)).unwrap());
    drop(tx);
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            coroutine::spawn(move || {
                let mut sum = 0;
                while let Ok(v) = block_on(rx.recv()) {
                    sum += v;
                }
                sum
            })
        })
        .collect();
    drop(rx);
    for p in producers {
        p.join().unwrap();
    }
    thread_producer.join().unwrap();
    let total: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(total, N * (N - 1) / 2 + N);
}

/// The documented way to call a tokio-based library: a tokio runtime on its own threads, its
/// tasks' `JoinHandle`s awaited with `block_on` from coroutines; tokio's executor-free parts
/// (oneshot) work directly. The other way round, tokio tasks await coroutines.
#[test]
fn tokio_runtime_alongside() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let hs: Vec<_> = (0..50u64)
        .map(|i| {
            let handle = handle.clone();
            coroutine::spawn(move || {
                let task = handle.spawn(async move {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    i * 2
                });
                block_on(task).unwrap()
            })
        })
        .collect();
    let sum: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, 2 * 49 * 50 / 2);

    let (tx, rx) = tokio::sync::oneshot::channel::<&str>();
    let waiter = coroutine::spawn(move || block_on(rx).unwrap());
    std::thread::spawn(move || tx.send("via oneshot").unwrap());
    assert_eq!(waiter.join().unwrap(), "via oneshot");

    // A tokio task awaits a coroutine without blocking tokio's worker.
    let co = coroutine::spawn(|| {
        coroutine::sleep(Duration::from_millis(5));
        11
    });
    let from_tokio = rt.block_on(async move { co.await.unwrap() });
    assert_eq!(from_tokio, 11);
}
