//! Cancelling a coroutine that waits for children borrowing its stack (`scope`, `select!` with a
//! general branch, `join!`): the children are cancelled and joined before the parent unwinds, so
//! no borrow outlives the data, and a message a `select!` branch took reaches that branch's body.

mod cancel_support;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use cancel_support::HOUR;
use may::coroutine;
use may::sync::mpmc;

/// Sums the borrowed bytes when dropped: a child that unwinds still reads the parent's data.
struct SumOnDrop<'a> {
    data: &'a [u8],
    out: &'a AtomicU64,
}

impl Drop for SumOnDrop<'_> {
    fn drop(&mut self) {
        let sum = self.data.iter().map(|&b| u64::from(b)).sum();
        self.out.store(sum, SeqCst);
    }
}

/// The reproduction of the use-after-free: the parent is cancelled while `scope` waits for a
/// child that sleeps holding a borrow of the parent's vector. The child is cancelled too, reads
/// the vector while it unwinds (5760, the vector intact), and has finished before the parent's
/// `join` returns.
#[test]
fn cancelled_scope_joins_its_children_before_unwinding() {
    let sum = Arc::new(AtomicU64::new(0));
    let child_ended = Arc::new(AtomicBool::new(false));
    let (entered_tx, entered_rx) = mpmc::bounded(1);
    let parent = {
        let (sum, child_ended) = (sum.clone(), child_ended.clone());
        coroutine::spawn(move || {
            let data = vec![0x5au8; 64];
            coroutine::scope(|s| {
                s.spawn(|| {
                    let _guard = SumOnDrop {
                        data: &data,
                        out: &sum,
                    };
                    entered_tx.send(()).unwrap();
                    coroutine::sleep(HOUR);
                });
            });
            // Never reached: the scope unwinds with the cancellation once the child is done.
            child_ended.store(true, SeqCst);
        })
    };
    entered_rx.recv().unwrap();
    parent.coroutine().cancel();
    let err = parent.join().expect_err("the parent was cancelled");
    assert!(err.is_cancelled(), "{err}");
    assert_eq!(sum.load(SeqCst), 5760, "the child read intact data");
    assert!(
        !child_ended.load(SeqCst),
        "the scope re-raised the cancellation"
    );
}

/// Children spawned into the scope by other children after the closure returned are joined too
/// (and cancelled with the rest).
#[test]
fn cancelled_scope_also_joins_grandchildren() {
    let finished = Arc::new(AtomicUsize::new(0));
    let (entered_tx, entered_rx) = mpmc::bounded(8);
    let parent = {
        let finished = finished.clone();
        coroutine::spawn(move || {
            let data = vec![1u8; 8];
            coroutine::scope(|s| {
                let (data, finished, entered_tx) = (&data, &finished, &entered_tx);
                s.spawn(move || {
                    s.spawn(move || {
                        let _count = Finish(finished, data);
                        entered_tx.send(()).unwrap();
                        coroutine::sleep(HOUR);
                    });
                    let _count = Finish(finished, data);
                    entered_tx.send(()).unwrap();
                    coroutine::sleep(HOUR);
                });
            });
        })
    };
    entered_rx.recv().unwrap();
    entered_rx.recv().unwrap();
    parent.coroutine().cancel();
    assert!(parent.join().unwrap_err().is_cancelled());
    assert_eq!(finished.load(SeqCst), 2, "both descendants finished first");
}

struct Finish<'a>(&'a AtomicUsize, &'a [u8]);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        assert_eq!(self.1.iter().map(|&b| usize::from(b)).sum::<usize>(), 8);
        self.0.fetch_add(1, SeqCst);
    }
}

/// A scope on a coroutine that is not cancelled returns its value even though its children
/// were slow; a scope whose coroutine is cancelled before it starts waiting cancels children
/// that would otherwise block forever.
#[test]
fn a_pending_cancel_reaches_children_spawned_before_it() {
    let (_keep_tx, never_rx) = mpmc::bounded::<u32>(0);
    let unwound = Arc::new(AtomicUsize::new(0));
    let (entered_tx, entered_rx) = mpmc::bounded(4);
    let parent = {
        let unwound = unwound.clone();
        coroutine::spawn(move || {
            coroutine::scope(|s| {
                for _ in 0..4 {
                    let (never_rx, unwound, entered_tx) = (&never_rx, &unwound, &entered_tx);
                    s.spawn(move || {
                        let _tracked = cancel_support::Tracked(Arc::clone(unwound));
                        entered_tx.send(()).unwrap();
                        never_rx.recv().unwrap()
                    });
                }
            })
        })
    };
    for _ in 0..4 {
        entered_rx.recv().unwrap();
    }
    parent.coroutine().cancel();
    assert!(parent.join().unwrap_err().is_cancelled());
    assert_eq!(unwound.load(SeqCst), 4);
}

/// Blocks in its destructor (a cancelled coroutine may block while it unwinds) until the test
/// lets it go, after telling the test it is there.
struct BlockOnDrop {
    entered: mpmc::Sender<()>,
    gate: mpmc::Receiver<()>,
}

impl Drop for BlockOnDrop {
    fn drop(&mut self) {
        self.entered.send(()).unwrap();
        self.gate.recv().unwrap();
    }
}

/// `select!` with a general branch: when a channel branch wins and the coroutine is cancelled
/// while `select!` joins the losing general branch, the message still reaches the branch body;
/// the cancellation is honoured at the next blocking call.
#[test]
fn select_delivers_a_taken_message_to_its_body_despite_a_cancel() {
    let (tx, rx) = mpmc::bounded::<u64>(1);
    let (entered_tx, entered_rx) = mpmc::bounded::<()>(1);
    let (gate_tx, gate_rx) = mpmc::bounded::<()>(1);
    let (started_tx, started_rx) = mpmc::bounded::<()>(1);
    let got = Arc::new(AtomicU64::new(0));
    let after_body = Arc::new(AtomicBool::new(false));
    let h = {
        let (got, after_body) = (got.clone(), after_body.clone());
        coroutine::spawn(move || {
            may::select! {
                recv(rx) -> msg => got.store(msg.unwrap(), SeqCst),
                // The losing branch: once cancelled it blocks while unwinding, so `select!` is
                // still joining it when the cancellation of the parent arrives.
                _ = {
                    let _block = BlockOnDrop { entered: entered_tx, gate: gate_rx };
                    started_tx.send(()).unwrap();
                    coroutine::sleep(HOUR);
                } => unreachable!("the general branch sleeps for an hour"),
            }
            after_body.store(true, SeqCst);
            // The pending cancellation unwinds at the next blocking call.
            coroutine::yield_now();
            unreachable!("the cancellation was lost");
        })
    };
    started_rx.recv().unwrap();
    tx.send(7).unwrap();
    entered_rx.recv().unwrap();
    h.coroutine().cancel();
    gate_tx.send(()).unwrap();
    assert!(h.join().unwrap_err().is_cancelled());
    assert_eq!(got.load(SeqCst), 7, "the received message reached the body");
    assert!(after_body.load(SeqCst));
}

/// A general `select!` branch may mutate what it captures.
#[test]
fn select_general_branch_mutates_captured_locals() {
    let mut buf = [0u8; 4];
    let mut calls = 0;
    let n = may::select! {
        n = {
            calls += 1;
            buf[0] = 9;
            1usize
        } => n,
    };
    assert_eq!((n, calls, buf[0]), (1, 1, 9));
}

/// `join!` in a cancelled coroutine: its children are cancelled and joined, then it unwinds.
#[test]
fn cancelled_join_macro_joins_its_children() {
    let unwound = Arc::new(AtomicUsize::new(0));
    let (entered_tx, entered_rx) = mpmc::bounded(2);
    let parent = {
        let unwound = unwound.clone();
        coroutine::spawn(move || {
            let block = |entered_tx: &mpmc::Sender<()>| {
                let _tracked = cancel_support::Tracked(Arc::clone(&unwound));
                entered_tx.send(()).unwrap();
                coroutine::sleep(HOUR);
            };
            may::join!(block(&entered_tx), block(&entered_tx));
        })
    };
    entered_rx.recv().unwrap();
    entered_rx.recv().unwrap();
    parent.coroutine().cancel();
    assert!(parent.join().unwrap_err().is_cancelled());
    assert_eq!(unwound.load(SeqCst), 2);
}
