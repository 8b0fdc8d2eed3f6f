//! The cancellation-injection harness (issue 12). [`inject`] runs a scenario's body in a fresh
//! coroutine that is cancelled at its 1st, 2nd, ... k-th blocking point in turn, once with the
//! cancellation arriving just before the call and once while the coroutine is blocked in it,
//! until a run completes without reaching k. After every run the scenario checks its own totals
//! (every message received exactly once or drained, drop counters equal to creation counters,
//! locks free or poisoned by the rule, permits and counts back) and the harness checks that
//! every coroutine the run started has finished.
//!
//! The blocking points are counted by may-core's test-only `__cancel_injection` feature (see
//! docs/architecture.md, "Cancellation injection"); only the body's coroutine is counted and
//! cancelled, never the peers it talks to.
//!
//! Adding a scenario: a type implementing [`Scenario`] whose `body` does the blocking calls
//! under test against peers started by the setup closure, and whose `check` lets those peers
//! finish (draining what the body left behind) and asserts totals, never just "did not crash".

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use may::__private::cancel_injection::{
    blocking_points_passed, cancel_at_blocking_point, injected,
};
pub use may::__private::cancel_injection::{Delivered, Delivery};
use may::coroutine;

/// A run that takes longer than this (body, check, or coroutines left behind) has hung.
pub const HANG: Duration = Duration::from_secs(20);
/// More blocking points than any scenario here has: a run count past it means a scenario that
/// never completes.
const MAX_POINTS: u32 = 5_000;

/// How the body's coroutine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The body returned.
    Returned,
    /// The body unwound with the injected cancellation.
    Cancelled,
}

/// One run of a scenario.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// The blocking point the cancellation was injected at.
    pub k: u32,
    pub delivery: Delivery,
    pub ended: Ended,
    /// Blocking points the body passed.
    pub points: u32,
    /// How the cancellation reached the body, if it did.
    pub delivered: Option<Delivered>,
}

impl Run {
    /// The injected cancellation was reached (the body may still have returned: a cancellation
    /// delivered after its last blocking call stays pending).
    pub fn reached(&self) -> bool {
        self.delivered.is_some()
    }
}

/// A scenario for [`inject`]. The setup closure given to `inject` builds its state and starts
/// its peers (other coroutines or threads).
pub trait Scenario: Send + Sync + 'static {
    /// Runs in the coroutine under test, whose blocking points are counted and cancelled.
    fn body(&self);
    /// Runs on the test thread once the body's coroutine has finished: lets the peers finish
    /// (draining what the body left), joins them and asserts the scenario's totals.
    fn check(&self, run: &Run);
}

/// What [`inject`] saw over all its runs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    /// Runs made.
    pub runs: u32,
    /// Runs whose body unwound with the injected cancellation.
    pub cancelled: u32,
    /// Runs whose cancellation reached a wait that had registered and was about to park.
    pub while_parked: u32,
    /// The most blocking points a run passed.
    pub most_points: u32,
}

/// One scenario at a time per test binary: the "every coroutine finished" check compares the
/// runtime's count of live coroutines with its count before the run.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs the scenario built by `setup` with a cancellation injected at every blocking point of
/// its body in turn, both deliveries, checking it after every run. Panics (naming the run) on
/// a failed check, a panicking body, a run that hangs, or a coroutine left running.
pub fn inject<S: Scenario>(name: &str, setup: impl Fn() -> S) -> Summary {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let mut summary = Summary::default();
    for delivery in [Delivery::BeforeCall, Delivery::WhileBlocked] {
        for k in 1.. {
            assert!(
                k <= MAX_POINTS,
                "{name}: more than {MAX_POINTS} blocking points"
            );
            let run = run_once(name, &setup, k, delivery);
            summary.runs += 1;
            summary.most_points = summary.most_points.max(run.points);
            if run.ended == Ended::Cancelled {
                summary.cancelled += 1;
            }
            if run.delivered == Some(Delivered::WhileParked) {
                summary.while_parked += 1;
            }
            if !run.reached() {
                break;
            }
        }
    }
    println!("{name}: {summary:?}");
    assert!(
        summary.cancelled > 0,
        "{name}: no run was cancelled, the body has no blocking point"
    );
    summary
}

/// Records how many points the body passed and how the cancellation reached it, when the body
/// returns or unwinds.
struct Probe(Arc<Mutex<(u32, Option<Delivered>)>>);

impl Drop for Probe {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) =
            (blocking_points_passed(), injected());
    }
}

fn run_once<S: Scenario>(name: &str, setup: &impl Fn() -> S, k: u32, delivery: Delivery) -> Run {
    let baseline = may::runtime::metrics().alive;
    let scenario = Arc::new(setup());
    let probed = Arc::new(Mutex::new((0, None)));
    let body = {
        let (scenario, probed) = (scenario.clone(), probed.clone());
        coroutine::spawn(move || {
            let _probe = Probe(probed);
            assert!(cancel_at_blocking_point(k, delivery));
            scenario.body();
        })
    };
    let what = format!("{name}, cancelled at point {k} {delivery:?}");

    wait_bounded(&what, "the body to finish", || body.is_done());
    let ended = match body.join() {
        Ok(()) => Ended::Returned,
        Err(err) if err.is_cancelled() => Ended::Cancelled,
        Err(err) => panic!("{what}: the body failed: {err}"),
    };
    let (points, delivered) = *probed.lock().unwrap_or_else(PoisonError::into_inner);
    let run = Run {
        k,
        delivery,
        ended,
        points,
        delivered,
    };
    if !run.reached() {
        assert_eq!(ended, Ended::Returned, "{what}: cancelled before point {k}");
    } else if ended == Ended::Returned {
        // Only a cancellation delivered after the last blocking call may go unhonoured.
        assert_eq!(points, k, "{what}: the cancellation was lost ({run:?})");
    }
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| scenario.check(&run))) {
        eprintln!("{what}: the check failed ({run:?})");
        panic::resume_unwind(payload);
    }
    drop(scenario);
    wait_bounded(&what, "every coroutine of the run to finish", || {
        may::runtime::metrics().alive <= baseline
    });
    run
}

/// Polls `done` for at most [`HANG`]; on a hang, prints the runtime's dump and panics.
pub fn wait_bounded(run: &str, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > HANG {
            eprintln!("{}", may::runtime::format_dump(&may::runtime::dump()));
            panic!("{run}: waited {HANG:?} for {what}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// How long a check waits for coroutines the body left running to put their books straight
/// (a loaded machine can hold one off its worker for a while).
pub const SETTLE: Duration = Duration::from_secs(5);

/// Polls `balanced` until it holds or [`SETTLE`] passed; the caller then asserts (with the
/// numbers) whatever still does not hold.
pub fn settle(mut balanced: impl FnMut() -> bool) {
    let start = Instant::now();
    while !balanced() && start.elapsed() < SETTLE {
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A count and a sum, to tell "the same messages" from "as many messages".
#[derive(Debug, Default)]
pub struct Tally {
    n: AtomicU64,
    sum: AtomicU64,
}

impl Tally {
    pub fn add(&self, value: u64) {
        self.n.fetch_add(1, SeqCst);
        self.sum.fetch_add(value, SeqCst);
    }

    /// `(count, sum)`.
    pub fn get(&self) -> (u64, u64) {
        (self.n.load(SeqCst), self.sum.load(SeqCst))
    }

    pub fn count(&self) -> u64 {
        self.n.load(SeqCst)
    }
}

/// The books of one run's messages: created and dropped (by their destructor), sent (a send
/// returned `Ok`) and received (a receiver took it).
#[derive(Debug, Default)]
pub struct Ledger {
    pub created: Tally,
    pub dropped: Tally,
    pub sent: Tally,
    pub received: Tally,
}

impl Ledger {
    /// Every message was dropped exactly once, and every message sent was received exactly
    /// once (the check drains what the body left in the channels before calling this). A
    /// coroutine the body left running (a child whose joiner was cancelled) may still hold a
    /// message it took, so the books get until [`SETTLE`] to balance before they are checked.
    pub fn assert_balanced(&self, what: &str) {
        settle(|| {
            self.dropped.get() == self.created.get() && self.received.get() == self.sent.get()
        });
        assert_eq!(
            self.dropped.get(),
            self.created.get(),
            "{what}: messages dropped (count, sum) vs created"
        );
        assert_eq!(
            self.received.get(),
            self.sent.get(),
            "{what}: messages received (count, sum) vs sent"
        );
    }
}

/// A message that keeps the books: counted when created and when dropped.
#[derive(Debug)]
pub struct Msg {
    pub value: u64,
    ledger: Arc<Ledger>,
}

impl Msg {
    pub fn new(ledger: &Arc<Ledger>, value: u64) -> Msg {
        ledger.created.add(value);
        Msg {
            value,
            ledger: ledger.clone(),
        }
    }

    /// Records the message as received (call it right where a receive returned it, with no
    /// blocking call in between) and drops it.
    pub fn receive(self) -> u64 {
        self.ledger.received.add(self.value);
        self.value
    }
}

impl Drop for Msg {
    fn drop(&mut self) {
        self.ledger.dropped.add(self.value);
    }
}

/// Holds a value the body borrows while it runs and the check takes afterwards (a channel's
/// only receiver): the body's [`Lent`] puts it back even when the body unwinds.
pub struct Shelf<T>(Mutex<Option<T>>);

impl<T> Shelf<T> {
    pub fn new(value: T) -> Shelf<T> {
        Shelf(Mutex::new(Some(value)))
    }

    /// Takes the value until the returned guard drops.
    pub fn lend(&self) -> Lent<'_, T> {
        let value = self.take();
        Lent {
            shelf: self,
            value: Some(value),
        }
    }

    /// Takes the value for good.
    pub fn take(&self) -> T {
        let taken = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        taken.expect("the value is on the shelf")
    }
}

/// The borrowed value of a [`Shelf`].
pub struct Lent<'a, T> {
    shelf: &'a Shelf<T>,
    value: Option<T>,
}

impl<T> std::ops::Deref for Lent<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value.as_ref().expect("lent until dropped")
    }
}

impl<T> Drop for Lent<'_, T> {
    fn drop(&mut self) {
        *self.shelf.0.lock().unwrap_or_else(PoisonError::into_inner) = self.value.take();
    }
}
