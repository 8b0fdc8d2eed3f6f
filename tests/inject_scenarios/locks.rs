//! Lock scenarios: the body contends with peers for a `Mutex` or an `RwLock`, consumes from a
//! `Condvar`-guarded queue, or holds `Semaphore` permits. After every run the lock is free
//! (poisoned exactly when the body was cancelled holding a guard that poisons), every update
//! under it is counted, no notification is lost, and the permits are all back.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, PoisonError};

use super::{hold, Peers};
use crate::cancel_support::injection::{Ended, Ledger, Msg, Run, Scenario};
use may::coroutine;
use may::sync::{Condvar, Mutex, RwLock, Semaphore, TryLockError};

/// A lock guarding a counter: `Mutex` (exclusive only) or `RwLock` (exclusive and shared).
pub trait CounterLock: Send + Sync + Sized + 'static {
    fn new() -> Self;
    /// Runs `f` on the counter under the exclusive lock (a poisoned lock's data, if
    /// `tolerate_poison`; else poison is a failure).
    fn exclusive(&self, tolerate_poison: bool, f: impl FnOnce(&mut u64));
    /// Runs `f` under the shared lock; false (without running it) for a lock with no shared
    /// mode.
    fn shared(&self, f: impl FnOnce(&u64)) -> bool;
    fn is_poisoned(&self) -> bool;
    /// The counter, taking the exclusive lock without waiting (poisoned or not); `None` if the
    /// lock is held.
    fn try_value(&self) -> Option<u64>;
}

impl CounterLock for Mutex<u64> {
    fn new() -> Self {
        Mutex::new(0)
    }

    fn exclusive(&self, tolerate_poison: bool, f: impl FnOnce(&mut u64)) {
        match self.lock() {
            Ok(mut value) => f(&mut value),
            Err(err) if tolerate_poison => f(&mut err.into_inner()),
            Err(_) => panic!("poisoned while the body runs"),
        }
    }

    fn shared(&self, _f: impl FnOnce(&u64)) -> bool {
        false
    }

    fn is_poisoned(&self) -> bool {
        Mutex::is_poisoned(self)
    }

    fn try_value(&self) -> Option<u64> {
        match self.try_lock() {
            Ok(value) => Some(*value),
            Err(TryLockError::Poisoned(err)) => Some(*err.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

impl CounterLock for RwLock<u64> {
    fn new() -> Self {
        RwLock::new(0)
    }

    fn exclusive(&self, tolerate_poison: bool, f: impl FnOnce(&mut u64)) {
        match self.write() {
            Ok(mut value) => f(&mut value),
            Err(err) if tolerate_poison => f(&mut err.into_inner()),
            Err(_) => panic!("poisoned while the body runs"),
        }
    }

    fn shared(&self, f: impl FnOnce(&u64)) -> bool {
        f(&self.read().unwrap_or_else(PoisonError::into_inner));
        true
    }

    fn is_poisoned(&self) -> bool {
        RwLock::is_poisoned(self)
    }

    fn try_value(&self) -> Option<u64> {
        match self.try_write() {
            Ok(value) => Some(*value),
            Err(TryLockError::Poisoned(err)) => Some(*err.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

/// `rounds` increments of a counter under a lock by the body, and as many as they get in
/// meanwhile by a peer writer (and, for an `RwLock`, shared reads by the body and a peer
/// reader); everyone holds the lock for a moment, so that the others block for it. Afterwards the lock is free, poisoned exactly when
/// the body was cancelled holding it exclusively (a cancelled reader poisons nothing), and the
/// counter equals the increments made.
pub struct LockCounter<L> {
    lock: Arc<L>,
    body_commits: AtomicU64,
    peer_commits: Arc<AtomicU64>,
    /// The body holds the exclusive lock (set once it has it, cleared before it lets go).
    holding: AtomicBool,
    rounds: u64,
    peers: Peers,
}

pub fn lock_counter<L: CounterLock>(rounds: u64) -> LockCounter<L> {
    let scenario = LockCounter {
        lock: Arc::new(L::new()),
        body_commits: AtomicU64::new(0),
        peer_commits: Arc::default(),
        holding: AtomicBool::new(false),
        rounds,
        peers: Peers::default(),
    };
    let (lock, commits) = (scenario.lock.clone(), scenario.peer_commits.clone());
    scenario.peers.spawn_until_stopped(move || {
        lock.exclusive(true, |value| {
            *value += 1;
            commits.fetch_add(1, SeqCst);
            hold();
        });
    });
    let lock = scenario.lock.clone();
    scenario.peers.spawn_until_stopped(move || {
        let shared = lock.shared(|value| {
            std::hint::black_box(*value);
            hold();
        });
        if !shared {
            hold();
        }
    });
    scenario
}

impl<L: CounterLock> Scenario for LockCounter<L> {
    fn body(&self) {
        for _ in 0..self.rounds {
            self.lock.exclusive(false, |value| {
                self.holding.store(true, SeqCst);
                *value += 1;
                self.body_commits.fetch_add(1, SeqCst);
                coroutine::yield_now();
                self.holding.store(false, SeqCst);
            });
            self.lock.shared(|value| {
                std::hint::black_box(*value);
                coroutine::yield_now();
            });
        }
    }

    fn check(&self, run: &Run) {
        self.peers.join(run);
        let poisoned = run.ended == Ended::Cancelled && self.holding.load(SeqCst);
        assert_eq!(self.lock.is_poisoned(), poisoned, "{run:?}: poisoned");
        let value = self.lock.try_value();
        let commits = self.body_commits.load(SeqCst) + self.peer_commits.load(SeqCst);
        assert_eq!(
            value,
            Some(commits),
            "{run:?}: lock free, every update counted"
        );
    }
}

/// A queue guarded by a `Mutex` and two condition variables: a peer producer puts one message
/// at a time and waits (`space`) until it is taken; the body and a peer consumer wait
/// (`ready`) and take. A notification the cancelled body swallowed would leave the peer
/// consumer waiting and the producer stuck: the run would hang.
pub struct CondvarQueue {
    state: Arc<(Mutex<Queue>, Condvar, Condvar)>,
    /// Set by the body when it starts: the producer waits for it, so that the body does not
    /// find everything done.
    body_started: Arc<AtomicBool>,
    ledger: Arc<Ledger>,
    timed: bool,
    peers: Peers,
}

#[derive(Default)]
pub struct Queue {
    items: VecDeque<Msg>,
    done: bool,
}

/// The body waits with `wait`, or with `wait_timeout` (short, retried) when `timed`.
pub fn condvar_queue(n: u64, timed: bool) -> CondvarQueue {
    let scenario = CondvarQueue {
        state: Arc::new((Mutex::new(Queue::default()), Condvar::new(), Condvar::new())),
        body_started: Arc::default(),
        ledger: Arc::default(),
        timed,
        peers: Peers::default(),
    };
    let (state, ledger) = (scenario.state.clone(), scenario.ledger.clone());
    let body_started = scenario.body_started.clone();
    scenario.peers.spawn(move || {
        while !body_started.load(SeqCst) {
            coroutine::yield_now();
        }
        let (lock, ready, space) = &*state;
        for value in 1..=n {
            let mut queue = lock.lock().expect("never poisoned");
            while !queue.items.is_empty() {
                queue = space.wait(queue).expect("never poisoned");
            }
            queue.items.push_back(Msg::new(&ledger, value));
            ledger.sent.add(value);
            ready.notify_one();
            drop(queue);
            // The consumers wait for the next one.
            hold();
        }
        lock.lock().expect("never poisoned").done = true;
        ready.notify_all();
    });
    let state = scenario.state.clone();
    scenario.peers.spawn(move || take_all(&state, false, hold));
    scenario
}

/// Takes messages until the producer is done and the queue empty, calling `after_each` after
/// each one (outside the lock).
fn take_all(state: &(Mutex<Queue>, Condvar, Condvar), timed: bool, after_each: impl Fn()) {
    let (lock, ready, space) = state;
    loop {
        let mut queue = lock.lock().expect("never poisoned");
        while queue.items.is_empty() && !queue.done {
            queue = if timed {
                let short = std::time::Duration::from_millis(1);
                ready.wait_timeout(queue, short).expect("never poisoned").0
            } else {
                ready.wait(queue).expect("never poisoned")
            };
        }
        match queue.items.pop_front() {
            Some(msg) => {
                msg.receive();
                space.notify_one();
            }
            None => return,
        }
        drop(queue);
        after_each();
    }
}

impl Scenario for CondvarQueue {
    fn body(&self) {
        self.body_started.store(true, SeqCst);
        take_all(&self.state, self.timed, || ());
    }

    fn check(&self, run: &Run) {
        self.peers.join(run);
        let (lock, _, _) = &*self.state;
        assert!(
            !lock.is_poisoned(),
            "{run:?}: a condvar waiter poisons nothing"
        );
        let queue = lock
            .try_lock()
            .unwrap_or_else(|_| panic!("{run:?}: lock held"));
        assert!(queue.items.is_empty() && queue.done, "{run:?}: all taken");
        drop(queue);
        self.ledger.assert_balanced(&format!("{run:?}"));
    }
}

/// The body holds one of two permits `rounds` times, and two peers as often as they get them
/// meanwhile; never more than two inside, and both permits back at the end.
pub struct SemaphoreRounds {
    sem: Arc<Semaphore>,
    inside: Arc<AtomicU64>,
    rounds: u64,
    peers: Peers,
}

const PERMITS: usize = 2;

pub fn semaphore_rounds(rounds: u64) -> SemaphoreRounds {
    let scenario = SemaphoreRounds {
        sem: Arc::new(Semaphore::new(PERMITS)),
        inside: Arc::default(),
        rounds,
        peers: Peers::default(),
    };
    for _ in 0..2 {
        let (sem, inside) = (scenario.sem.clone(), scenario.inside.clone());
        scenario
            .peers
            .spawn_until_stopped(move || hold_permit(&sem, &inside, hold));
    }
    scenario
}

/// Takes a permit and runs `hold` with it.
fn hold_permit(sem: &Semaphore, inside: &AtomicU64, hold: impl FnOnce()) {
    let _permit = sem.acquire();
    let now = inside.fetch_add(1, SeqCst) + 1;
    assert!(now <= PERMITS as u64, "{now} holders of {PERMITS} permits");
    /// Leaves the count however the holder ends.
    struct Leave<'a>(&'a AtomicU64);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SeqCst);
        }
    }
    let _leave = Leave(inside);
    hold();
}

impl Scenario for SemaphoreRounds {
    fn body(&self) {
        (0..self.rounds).for_each(|_| hold_permit(&self.sem, &self.inside, coroutine::yield_now));
    }

    fn check(&self, run: &Run) {
        self.peers.join(run);
        assert_eq!(
            self.sem.available_permits(),
            PERMITS,
            "{run:?}: permits back"
        );
        assert_eq!(self.inside.load(SeqCst), 0, "{run:?}");
    }
}
