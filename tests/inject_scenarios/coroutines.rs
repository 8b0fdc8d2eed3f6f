//! Coroutine scenarios: the body joins children (`JoinHandle::join`/`wait`), runs a `scope`
//! or `join!` whose children borrow its stack, selects (`select!` with native branches and with
//! a general branch, `Select`), sleeps and waits for timers, joins `spawn_blocking` jobs and
//! blocks on futures. Every message sent is received exactly once (by the body, a child or the
//! check), every value dropped exactly once, children that borrow the body's stack finish
//! before its frame ends and read intact data.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use crate::cancel_support::injection::{
    wait_bounded, Ended, Ledger, Msg, Run, Scenario, Shelf, Tally,
};
use may::coroutine::{self, JoinHandle};
use may::sync::mpmc;

/// A drop-counted value: created and dropped are both tallied in `Counts`.
pub struct Counted(u64, Arc<Counts>);

#[derive(Default)]
pub struct Counts {
    pub created: Tally,
    pub dropped: Tally,
}

impl Counted {
    pub fn new(counts: &Arc<Counts>, value: u64) -> Counted {
        counts.created.add(value);
        Counted(value, counts.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.dropped.add(self.0);
    }
}

impl Counts {
    fn assert_balanced(&self, run: &Run) {
        crate::cancel_support::injection::settle(|| self.dropped.get() == self.created.get());
        assert_eq!(
            self.dropped.get(),
            self.created.get(),
            "{run:?}: drops vs creations"
        );
    }
}

/// A channel fed with `n` messages by a peer coroutine, for bodies and their children to take
/// from. `drain` (the check) takes what is left and joins the peer.
pub struct Feed {
    pub ledger: Arc<Ledger>,
    pub rx: mpmc::Receiver<Msg>,
    producer: Shelf<JoinHandle<()>>,
}

impl Feed {
    pub fn new(n: u64, cap: usize) -> Feed {
        let ledger: Arc<Ledger> = Arc::default();
        let (tx, rx) = mpmc::bounded(cap);
        let producer = {
            let ledger = ledger.clone();
            coroutine::spawn(move || {
                for value in 1..=n {
                    tx.send(Msg::new(&ledger, value))
                        .expect("the feed is drained");
                    ledger.sent.add(value);
                }
            })
        };
        Feed {
            ledger,
            rx,
            producer: Shelf::new(producer),
        }
    }

    /// Takes one message, recording it (`None` once the producer is done and all is taken).
    pub fn take(&self) -> Option<u64> {
        self.rx.recv().ok().map(Msg::receive)
    }

    pub fn drain(&self, run: &Run) {
        while let Ok(msg) = self.rx.recv_timeout(crate::cancel_support::injection::HANG) {
            msg.receive();
        }
        self.producer.take().join().expect("the producer finished");
        self.ledger.assert_balanced(&format!("{run:?}"));
    }
}

/// The body spawns a child per message; each child takes a message from the feed and returns a
/// counted result, which the body joins (`join`, or `wait` then `join`).
pub struct JoinChildren {
    feed: Feed,
    results: Arc<Counts>,
    wait_first: bool,
    n: u64,
}

pub fn join_children(n: u64, wait_first: bool) -> JoinChildren {
    JoinChildren {
        feed: Feed::new(n, 1),
        results: Arc::default(),
        wait_first,
        n,
    }
}

impl Scenario for JoinChildren {
    fn body(&self) {
        for _ in 0..self.n {
            let (rx, results) = (self.feed.rx.clone(), self.results.clone());
            let child = coroutine::spawn(move || {
                let value = rx.recv().expect("fed").receive();
                Counted::new(&results, value)
            });
            if self.wait_first {
                child.wait();
            }
            drop(child.join().expect("the child returned"));
        }
    }

    fn check(&self, run: &Run) {
        self.feed.drain(run);
        // A child whose joiner was cancelled still finishes; its result drops with it.
        wait_bounded(&format!("{run:?}"), "the children's results", || {
            self.results.dropped.count() == self.results.created.count()
        });
        self.results.assert_balanced(run);
    }
}

/// Children that borrow the body's stack: they read the body's vector when they end (however
/// they end) and take messages from the feed meanwhile. `join_macro`: two children and the
/// feeder run by `join!`; else three children in a `scope` whose closure (the body) feeds them.
pub struct BorrowingChildren {
    feed: Shelf<mpmc::Sender<Msg>>,
    rx: mpmc::Receiver<Msg>,
    ledger: Arc<Ledger>,
    spawned: AtomicU64,
    /// Children that ran (a child cancelled before it started never runs).
    started: AtomicU64,
    finished: AtomicU64,
    intact: AtomicU64,
    /// Set when the body's frame ends.
    frame_ended: AtomicBool,
    /// Cleared if a child ran while or after the body's frame ended.
    in_order: AtomicBool,
    join_macro: bool,
    n: u64,
}

pub fn borrowing_children(n: u64, join_macro: bool) -> BorrowingChildren {
    let (tx, rx) = mpmc::bounded(1);
    BorrowingChildren {
        feed: Shelf::new(tx),
        rx,
        ledger: Arc::default(),
        spawned: AtomicU64::new(0),
        started: AtomicU64::new(0),
        finished: AtomicU64::new(0),
        intact: AtomicU64::new(0),
        frame_ended: AtomicBool::new(false),
        in_order: AtomicBool::new(true),
        join_macro,
        n,
    }
}

const PATTERN: u8 = 0x5a;
const DATA_LEN: usize = 64;

/// Reads the borrowed data when the child ends.
struct ReadOnDrop<'a> {
    data: &'a [u8],
    scenario: &'a BorrowingChildren,
}

impl Drop for ReadOnDrop<'_> {
    fn drop(&mut self) {
        let sum: u64 = self.data.iter().map(|&b| u64::from(b)).sum();
        if sum == u64::from(PATTERN) * DATA_LEN as u64 {
            self.scenario.intact.fetch_add(1, SeqCst);
        }
        self.scenario.finished.fetch_add(1, SeqCst);
        self.scenario.out_of_order_if_ended();
    }
}

/// Runs when the body's frame ends, after the scope or `join!` returned or unwound.
struct FrameEnd<'a>(&'a BorrowingChildren);

impl Drop for FrameEnd<'_> {
    fn drop(&mut self) {
        self.0.frame_ended.store(true, SeqCst);
        if self.0.finished.load(SeqCst) != self.0.started.load(SeqCst) {
            self.0.in_order.store(false, SeqCst);
        }
    }
}

impl BorrowingChildren {
    fn out_of_order_if_ended(&self) {
        if self.frame_ended.load(SeqCst) {
            self.in_order.store(false, SeqCst);
        }
    }

    /// A child: takes messages until the channel is disconnected, reading `data` at the end.
    fn child(&self, data: &[u8]) {
        self.started.fetch_add(1, SeqCst);
        self.out_of_order_if_ended();
        let _read = ReadOnDrop {
            data,
            scenario: self,
        };
        while let Ok(msg) = self.rx.recv() {
            msg.receive();
        }
    }

    fn feed(&self, tx: mpmc::Sender<Msg>) {
        for value in 1..=self.n {
            tx.send(Msg::new(&self.ledger, value))
                .expect("a child or the check receives");
            self.ledger.sent.add(value);
        }
    }
}

impl Scenario for BorrowingChildren {
    fn body(&self) {
        let _end = FrameEnd(self);
        let data = vec![PATTERN; DATA_LEN];
        let tx = self.feed.take();
        if self.join_macro {
            self.spawned.store(2, SeqCst);
            may::join!(self.child(&data), self.child(&data), self.feed(tx));
        } else {
            coroutine::scope(|s| {
                for _ in 0..3 {
                    self.spawned.fetch_add(1, SeqCst);
                    s.spawn(|| self.child(&data));
                }
                self.feed(tx);
            });
        }
    }

    fn check(&self, run: &Run) {
        assert!(
            self.in_order.load(SeqCst),
            "{run:?}: a child outlived the body's frame"
        );
        let started = self.started.load(SeqCst);
        assert!(started <= self.spawned.load(SeqCst), "{run:?}");
        assert_eq!(
            self.finished.load(SeqCst),
            started,
            "{run:?}: children finished"
        );
        assert_eq!(
            self.intact.load(SeqCst),
            started,
            "{run:?}: children read intact data"
        );
        if run.ended == Ended::Returned {
            assert_eq!(
                started,
                self.spawned.load(SeqCst),
                "{run:?}: every child ran"
            );
        }
        while let Ok(msg) = self.rx.try_recv() {
            msg.receive();
        }
        self.ledger.assert_balanced(&format!("{run:?}"));
    }
}

/// A blocking-pool job per round, joined by the body; each job returns a counted value.
pub struct BlockingJobs {
    results: Arc<Counts>,
    started: AtomicU64,
    n: u64,
}

pub fn blocking_jobs(n: u64) -> BlockingJobs {
    BlockingJobs {
        results: Arc::default(),
        started: AtomicU64::new(0),
        n,
    }
}

impl Scenario for BlockingJobs {
    fn body(&self) {
        for value in 1..=self.n {
            let results = self.results.clone();
            self.started.fetch_add(1, SeqCst);
            let job = coroutine::spawn_blocking(move || {
                std::thread::sleep(Duration::from_micros(200));
                Counted::new(&results, value)
            });
            drop(job.join().expect("the job returned"));
        }
    }

    fn check(&self, run: &Run) {
        // A job whose joiner was cancelled still runs, once, and its result drops.
        wait_bounded(&format!("{run:?}"), "the jobs", || {
            self.results.dropped.count() == self.started.load(SeqCst)
        });
        assert_eq!(
            self.results.created.count(),
            self.started.load(SeqCst),
            "{run:?}"
        );
        self.results.assert_balanced(run);
    }
}

/// The body takes `n` messages with `future::block_on` from an `async_channel` a plain thread
/// sends on; each future it blocks on is drop-counted.
pub struct BlockOnFutures {
    ledger: Arc<Ledger>,
    rx: async_channel::Receiver<Msg>,
    futures: Arc<Counts>,
    sender: Shelf<std::thread::JoinHandle<()>>,
    n: u64,
}

pub fn block_on_futures(n: u64) -> BlockOnFutures {
    let ledger: Arc<Ledger> = Arc::default();
    let (tx, rx) = async_channel::bounded(1);
    let sender = {
        let ledger = ledger.clone();
        std::thread::spawn(move || {
            for value in 1..=n {
                tx.send_blocking(Msg::new(&ledger, value)).expect("drained");
                ledger.sent.add(value);
            }
        })
    };
    BlockOnFutures {
        ledger,
        rx,
        futures: Arc::default(),
        sender: Shelf::new(sender),
        n,
    }
}

impl Scenario for BlockOnFutures {
    fn body(&self) {
        for round in 0..self.n {
            let counted = Counted::new(&self.futures, round);
            let rx = &self.rx;
            let msg = may::future::block_on(async move {
                let _counted = counted;
                rx.recv().await
            });
            msg.expect("fed").receive();
        }
    }

    fn check(&self, run: &Run) {
        // Ends once the sender thread has sent everything and dropped its end.
        while let Ok(msg) = self.rx.recv_blocking() {
            msg.receive();
        }
        self.sender.take().join().expect("the sender finished");
        self.futures.assert_balanced(run);
        self.ledger.assert_balanced(&format!("{run:?}"));
    }
}
