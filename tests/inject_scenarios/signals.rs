//! Signal scenarios: the body meets peers at a `Barrier`, waits on a `WaitGroup`, or parks on a
//! `Blocker` or with `coroutine::park`. After every run every barrier generation had its
//! leader, the wait group is back at zero with every helper's message received, and every
//! request the body sent was answered.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

use super::Peers;
use crate::cancel_support::injection::{Ended, Ledger, Msg, Run, Scenario, Shelf};
use may::coroutine::{self, Coroutine};
use may::sync::{mpmc, Barrier, Blocker, WaitGroup};

/// The body and two peers meet at a barrier of three `rounds` times; the check stands in for a
/// cancelled body in the rounds it missed. A cancelled arrival must be withdrawn: otherwise a
/// generation would trip one arrival early and the check's last wait would hang.
pub struct BarrierRounds {
    barrier: Arc<Barrier>,
    body_rounds: AtomicU64,
    leaders: Arc<AtomicU64>,
    rounds: u64,
    peers: Peers,
}

pub fn barrier_rounds(rounds: u64) -> BarrierRounds {
    let scenario = BarrierRounds {
        barrier: Arc::new(Barrier::new(3)),
        body_rounds: AtomicU64::new(0),
        leaders: Arc::default(),
        rounds,
        peers: Peers::default(),
    };
    for _ in 0..2 {
        let (barrier, leaders) = (scenario.barrier.clone(), scenario.leaders.clone());
        scenario.peers.spawn(move || {
            for _ in 0..rounds {
                if barrier.wait().is_leader() {
                    leaders.fetch_add(1, SeqCst);
                }
            }
        });
    }
    scenario
}

impl Scenario for BarrierRounds {
    fn body(&self) {
        for _ in 0..self.rounds {
            if self.barrier.wait().is_leader() {
                self.leaders.fetch_add(1, SeqCst);
            }
            self.body_rounds.fetch_add(1, SeqCst);
        }
    }

    fn check(&self, run: &Run) {
        for _ in self.body_rounds.load(SeqCst)..self.rounds {
            if self.barrier.wait().is_leader() {
                self.leaders.fetch_add(1, SeqCst);
            }
        }
        self.peers.join(run);
        assert_eq!(
            self.leaders.load(SeqCst),
            self.rounds,
            "{run:?}: a leader per round"
        );
    }
}

/// The body runs `rounds` rounds of: add two to a `WaitGroup`, spawn two helpers that each send
/// a message and call `done`, wait. Helpers of a cancelled round still finish; the group ends
/// at zero and every message is received by the check.
pub struct WaitGroupRounds {
    wg: Arc<WaitGroup>,
    ledger: Arc<Ledger>,
    channel: (mpmc::Sender<Msg>, mpmc::Receiver<Msg>),
    rounds: u64,
}

pub fn wait_group_rounds(rounds: u64) -> WaitGroupRounds {
    WaitGroupRounds {
        wg: Arc::new(WaitGroup::new()),
        ledger: Arc::default(),
        channel: mpmc::unbounded(),
        rounds,
    }
}

impl Scenario for WaitGroupRounds {
    fn body(&self) {
        for round in 0..self.rounds {
            self.wg.add(2);
            for helper in 0..2 {
                let (wg, ledger, tx) =
                    (self.wg.clone(), self.ledger.clone(), self.channel.0.clone());
                drop(coroutine::spawn(move || {
                    coroutine::yield_now();
                    let value = round * 2 + helper + 1;
                    tx.send(Msg::new(&ledger, value))
                        .expect("the check receives");
                    ledger.sent.add(value);
                    wg.done();
                }));
            }
            self.wg.wait();
        }
    }

    fn check(&self, run: &Run) {
        self.wg.wait();
        assert_eq!(self.wg.count(), 0, "{run:?}");
        // Every helper has sent once the group is at zero.
        while let Ok(msg) = self.channel.1.try_recv() {
            msg.receive();
        }
        self.ledger.assert_balanced(&format!("{run:?}"));
    }
}

/// Ping-pong between the body and a peer: the body sends a request and parks (on a `Blocker`,
/// or with `coroutine::park` until a flag is set), the peer answers each request with an
/// unpark. Requests sent are requests served, and the body consumed a wake-up for each request
/// but perhaps the last.
pub struct ParkPingPong {
    /// The body's sending end: dropped when the body ends, which ends the peer.
    requests: Shelf<mpmc::Sender<u64>>,
    receiver: mpmc::Receiver<u64>,
    woken: Arc<AtomicBool>,
    body_sent: AtomicU64,
    body_woken: AtomicU64,
    served: Arc<AtomicU64>,
    use_blocker: bool,
    rounds: u64,
    peers: Peers,
}

/// `use_blocker`: park on a `Blocker`; otherwise `coroutine::park` until a flag is set.
pub fn park_ping_pong(rounds: u64, use_blocker: bool) -> ParkPingPong {
    let (requests, receiver) = mpmc::unbounded();
    ParkPingPong {
        requests: Shelf::new(requests),
        receiver,
        woken: Arc::default(),
        body_sent: AtomicU64::new(0),
        body_woken: AtomicU64::new(0),
        served: Arc::default(),
        use_blocker,
        rounds,
        peers: Peers::default(),
    }
}

/// How the peer wakes the body.
enum Waker {
    Blocker(Blocker),
    Coroutine(Coroutine, Arc<AtomicBool>),
}

impl Waker {
    fn wake(&self) {
        match self {
            Waker::Blocker(blocker) => blocker.unpark(),
            Waker::Coroutine(co, flag) => {
                flag.store(true, SeqCst);
                co.unpark();
            }
        }
    }
}

impl Scenario for ParkPingPong {
    fn body(&self) {
        let requests = self.requests.take();
        let blocker = self.use_blocker.then(Blocker::current);
        let waker = match &blocker {
            Some(blocker) => Waker::Blocker(blocker.clone()),
            None => Waker::Coroutine(coroutine::current(), self.woken.clone()),
        };
        // Spawned before the body's first blocking point.
        let (rx, served) = (self.receiver.clone(), self.served.clone());
        self.peers.spawn(move || {
            while rx.recv().is_ok() {
                served.fetch_add(1, SeqCst);
                waker.wake();
            }
        });
        for round in 0..self.rounds {
            requests.send(round).expect("the peer receives");
            self.body_sent.fetch_add(1, SeqCst);
            match &blocker {
                Some(blocker) => blocker.park(None).expect("no timeout"),
                None => {
                    while !self.woken.swap(false, SeqCst) {
                        coroutine::park();
                    }
                }
            }
            self.body_woken.fetch_add(1, SeqCst);
        }
    }

    fn check(&self, run: &Run) {
        // The body's sender is gone, so the peer ends once it has served every request (the
        // check's receiver is a receiver, not a sender: it keeps nothing open).
        self.peers.join(run);
        let (sent, woken) = (self.body_sent.load(SeqCst), self.body_woken.load(SeqCst));
        assert_eq!(
            self.served.load(SeqCst),
            sent,
            "{run:?}: every request served"
        );
        assert!(
            woken == sent || woken + 1 == sent,
            "{run:?}: {woken} wake-ups for {sent} requests"
        );
        if run.ended == Ended::Returned {
            assert_eq!(woken, self.rounds, "{run:?}");
        }
    }
}
