//! A worker's queue of wake-ups from other threads: a one-task mailbox in front of an unbounded
//! queue.
//!
//! When coroutines on two workers hand a turn back and forth (a ping-pong over a channel, a
//! request and its reply), each hop is one wake-up crossing cores, and the receiving worker is
//! usually spinning for it. Through a `SegQueue` alone a hop moves several cache lines between
//! the cores: the tail index and the slot on push, the head index and the slot again on pop.
//! The mailbox is one pointer on its own line: the waker swaps the task in with one
//! compare-and-swap, the worker swaps it out with one more, and the line the worker spins on is
//! the line the waker writes. Wake-ups that find the mailbox full go to the queue, so nothing is
//! bounded and nothing is lost; the worker empties both each round.
//!
//! The queue promises no order, as none is promised between wake-ups of different tasks: a
//! task in the mailbox can be taken before one pushed to the queue earlier.

use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_queue::SegQueue;
use crossbeam_utils::CachePadded;

use crate::loom::AtomicPtr;

/// See the module docs.
pub(crate) struct RemoteQueue<T> {
    /// # Invariant
    /// Null, or a pointer from `Arc::into_raw` whose reference this queue owns.
    mailbox: CachePadded<AtomicPtr<T>>,
    overflow: SegQueue<Arc<T>>,
}

// SAFETY: the mailbox holds an `Arc<T>` (as a raw pointer) that moves between threads exactly as
// the ones in `overflow` do, so the queue is `Send` and `Sync` when `Arc<T>` is (`T: Send + Sync`).
unsafe impl<T: Send + Sync> Send for RemoteQueue<T> {}
// SAFETY: as above; every access to the mailbox is an atomic operation.
unsafe impl<T: Send + Sync> Sync for RemoteQueue<T> {}

impl<T> Default for RemoteQueue<T> {
    fn default() -> RemoteQueue<T> {
        RemoteQueue {
            mailbox: CachePadded::new(AtomicPtr::new(ptr::null_mut())),
            overflow: SegQueue::new(),
        }
    }
}

impl<T> RemoteQueue<T> {
    /// Queues `item` (any thread). The caller orders this before its read of the worker's
    /// sleeping flag with a `SeqCst` fence, as for any queue.
    pub(crate) fn push(&self, item: Arc<T>) {
        if !self.mailbox.load(Ordering::Relaxed).is_null() {
            self.overflow.push(item);
            return;
        }
        let raw = Arc::into_raw(item).cast_mut();
        let put = self.mailbox.compare_exchange(
            ptr::null_mut(),
            raw,
            Ordering::Release,
            Ordering::Relaxed,
        );
        if put.is_err() {
            // SAFETY: `raw` came from `into_raw` just above and was not published.
            self.overflow.push(unsafe { Arc::from_raw(raw) });
        }
    }

    /// Whether nothing is queued (a hint: a push may be under way).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.mailbox.load(Ordering::Relaxed).is_null() && self.overflow.is_empty()
    }

    /// Takes everything queued now (the mailbox first), passing each to `f`; returns how many.
    /// Called by the owning worker only, though any thread could.
    pub(crate) fn drain(&self, mut f: impl FnMut(Arc<T>)) -> usize {
        let mut taken = 0;
        if !self.mailbox.load(Ordering::Relaxed).is_null() {
            let raw = self.mailbox.swap(ptr::null_mut(), Ordering::Acquire);
            if !raw.is_null() {
                // SAFETY: by the invariant the pointer came from `into_raw` and its reference
                // was the mailbox's; the swap took it out, so it is ours alone.
                f(unsafe { Arc::from_raw(raw) });
                taken += 1;
            }
        }
        if !self.overflow.is_empty() {
            while let Some(item) = self.overflow.pop() {
                f(item);
                taken += 1;
            }
        }
        taken
    }
}

impl<T> Drop for RemoteQueue<T> {
    fn drop(&mut self) {
        self.drain(drop);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts its drops, so a test can see that every item was delivered once and freed once.
    struct Counted(usize, Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn the_mailbox_is_taken_first() {
        let drops = Arc::new(AtomicUsize::new(0));
        let queue = RemoteQueue::default();
        assert!(queue.is_empty());
        for i in 0..5 {
            queue.push(Arc::new(Counted(i, drops.clone())));
        }
        assert!(!queue.is_empty());
        let mut seen = Vec::new();
        assert_eq!(queue.drain(|item| seen.push(item.0)), 5);
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        assert!(queue.is_empty());
        assert_eq!(drops.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn items_left_at_drop_are_freed() {
        let drops = Arc::new(AtomicUsize::new(0));
        let queue = RemoteQueue::default();
        for i in 0..3 {
            queue.push(Arc::new(Counted(i, drops.clone())));
        }
        drop(queue);
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn concurrent_pushes_arrive_once_each() {
        const THREADS: usize = 4;
        const EACH: usize = 20_000;
        let drops = Arc::new(AtomicUsize::new(0));
        let queue = Arc::new(RemoteQueue::default());
        let pushers: Vec<_> = (0..THREADS)
            .map(|t| {
                let queue = queue.clone();
                let drops = drops.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        queue.push(Arc::new(Counted(t * EACH + i, drops.clone())));
                    }
                })
            })
            .collect();
        let mut seen = vec![false; THREADS * EACH];
        let mut received = 0;
        let mut sum = 0;
        while received < THREADS * EACH {
            queue.drain(|item| {
                assert!(
                    !std::mem::replace(&mut seen[item.0], true),
                    "delivered twice"
                );
                received += 1;
                sum += item.0;
            });
            std::hint::spin_loop();
        }
        for pusher in pushers {
            pusher.join().expect("pusher");
        }
        assert!(queue.is_empty());
        let n = THREADS * EACH;
        assert_eq!(sum, n * (n - 1) / 2);
        assert_eq!(drops.load(Ordering::Relaxed), n);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::RemoteQueue;
    use crate::loom::{fence, AtomicBool};
    use loom::sync::Arc;
    use std::sync::atomic::Ordering::SeqCst;

    /// The scheduler's sleep protocol over this queue loses no wake-up. The waker pushes, fences
    /// and reads the worker's sleeping flag (it would wake the worker if set); the worker drains,
    /// sets the flag, fences and looks at the queue (it would sleep if empty). Whatever the
    /// interleaving, a task the worker has not taken is seen by its look or is pushed by a waker
    /// that then sees the flag. Two wake-ups, so the second can meet a full mailbox and go to
    /// the `SegQueue` (whose own operations loom sees as single steps: it uses std's atomics).
    #[test]
    fn a_wake_up_meets_a_sleeping_worker() {
        loom::model(|| {
            let queue = Arc::new(RemoteQueue::<usize>::default());
            let sleeping = Arc::new(AtomicBool::new(false));
            let waker = {
                let (queue, sleeping) = (queue.clone(), sleeping.clone());
                loom::thread::spawn(move || {
                    let mut saw_sleeping = false;
                    for i in 0..2 {
                        queue.push(std::sync::Arc::new(i));
                        fence(SeqCst);
                        saw_sleeping = sleeping.load(SeqCst);
                    }
                    saw_sleeping
                })
            };
            let mut taken = queue.drain(drop);
            sleeping.store(true, SeqCst);
            fence(SeqCst);
            let saw_work = !queue.is_empty();
            let last_push_saw_sleeping = waker.join().unwrap();
            assert!(
                taken == 2 || saw_work || last_push_saw_sleeping,
                "a wake-up was lost: the worker would sleep with a task queued"
            );
            taken += queue.drain(drop);
            assert_eq!(taken, 2, "every wake-up is delivered once");
        });
    }
}
