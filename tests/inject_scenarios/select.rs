//! Selection and timer scenarios: the body selects over two fed channels and a send to a
//! consumer (`select!` with native branches, `select!` with a general branch, `Select` with
//! `select` or `select_timeout`), or waits on every kind of timer. Every message sent is
//! received exactly once: by a branch body, by a general branch's child, by the consumer, or by
//! the check draining the channels; every message is dropped exactly once.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use crate::cancel_support::injection::{Ledger, Msg, Run, Scenario, Shelf};
use may::coroutine::{self, JoinHandle};
use may::select::Select;
use may::sync::mpmc;

/// How the body selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// `select!` with two `recv` branches and a `send` branch.
    Native,
    /// `select!` with a `recv` branch and a general branch that receives from the second
    /// channel in a child coroutine.
    General,
    /// `Select`: `select()`.
    Dynamic,
    /// `Select`: `select_timeout` with a short timeout, retried.
    DynamicTimeout,
}

/// Two producers feed `a` and `b`; the body also offers messages to a consumer on `out` (not
/// with `General`). The body ends once `a` and `b` are disconnected and drained.
pub struct Selecting {
    ledger: Arc<Ledger>,
    a: mpmc::Receiver<Msg>,
    b: mpmc::Receiver<Msg>,
    out: Shelf<mpmc::Sender<Msg>>,
    peers: Shelf<Vec<JoinHandle<()>>>,
    /// Values of the messages the body offers on `out` (above the producers' values).
    next_out: AtomicU64,
    how: Selector,
    n: u64,
}

pub fn selecting(n: u64, how: Selector) -> Selecting {
    let ledger: Arc<Ledger> = Arc::default();
    let (a_tx, a) = mpmc::bounded(1);
    let (b_tx, b) = mpmc::bounded(1);
    let (out, out_rx) = mpmc::bounded::<Msg>(0);
    let mut peers = Vec::new();
    for (tx, base) in [(a_tx, 0), (b_tx, 1_000)] {
        let ledger = ledger.clone();
        peers.push(coroutine::spawn(move || {
            for value in base + 1..=base + n {
                tx.send(Msg::new(&ledger, value))
                    .expect("drained by the check");
                ledger.sent.add(value);
            }
        }));
    }
    peers.push(coroutine::spawn(move || {
        while let Ok(msg) = out_rx.recv() {
            msg.receive();
        }
    }));
    Selecting {
        ledger,
        a,
        b,
        out: Shelf::new(out),
        peers: Shelf::new(peers),
        next_out: AtomicU64::new(1_000_000),
        how,
        n,
    }
}

/// What one selection did.
enum Step {
    Took(Option<Msg>, Source),
    Offered,
    TimedOut,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    A,
    B,
}

impl Selecting {
    fn offer(&self) -> Msg {
        Msg::new(&self.ledger, self.next_out.fetch_add(1, SeqCst))
    }

    /// Records a message the body's send branch handed over (`Ok`) or got back.
    fn sent(&self, result: Result<(), mpmc::SendError<Msg>>, value: u64) -> Step {
        match result {
            Ok(()) => self.ledger.sent.add(value),
            Err(back) => drop(back),
        }
        Step::Offered
    }

    fn step(
        &self,
        a: &mpmc::Receiver<Msg>,
        b: &mpmc::Receiver<Msg>,
        out: &mpmc::Sender<Msg>,
    ) -> Step {
        match self.how {
            Selector::Native => {
                let msg = self.offer();
                let value = msg.value;
                may::select! {
                    recv(a) -> m => Step::Took(m.ok(), Source::A),
                    recv(b) -> m => Step::Took(m.ok(), Source::B),
                    send(out, msg) -> r => self.sent(r, value),
                }
            }
            Selector::General => may::select! {
                recv(a) -> m => Step::Took(m.ok(), Source::A),
                // Recorded in the child, where the receive returns: a child that took a message
                // and then lost the race to `a` has counted it.
                got = { b.recv().map(Msg::receive) } => match got {
                    Ok(_) => Step::Offered,
                    Err(_) => Step::Took(None, Source::B),
                },
            },
            Selector::Dynamic | Selector::DynamicTimeout => {
                let mut sel = Select::new();
                let ia = sel.recv(a);
                let ib = sel.recv(b);
                sel.send(out);
                let op = if self.how == Selector::Dynamic {
                    sel.select()
                } else {
                    match sel.select_timeout(Duration::from_millis(1)) {
                        Ok(op) => op,
                        Err(_) => return Step::TimedOut,
                    }
                };
                match op.index() {
                    i if i == ia => Step::Took(op.recv(a).ok(), Source::A),
                    i if i == ib => Step::Took(op.recv(b).ok(), Source::B),
                    _ => {
                        let msg = self.offer();
                        let value = msg.value;
                        self.sent(op.send(out, msg), value)
                    }
                }
            }
        }
    }
}

impl Scenario for Selecting {
    fn body(&self) {
        let out = self.out.take();
        let never = mpmc::never();
        let (mut a_open, mut b_open) = (true, true);
        while a_open || b_open {
            let a = if a_open { &self.a } else { &never };
            let b = if b_open { &self.b } else { &never };
            match self.step(a, b, &out) {
                Step::Took(Some(msg), _) => {
                    msg.receive();
                }
                Step::Took(None, Source::A) => a_open = false,
                Step::Took(None, Source::B) => b_open = false,
                Step::Offered | Step::TimedOut => {}
            }
        }
    }

    fn check(&self, run: &Run) {
        for rx in [&self.a, &self.b] {
            while let Ok(msg) = rx.recv_timeout(crate::cancel_support::injection::HANG) {
                msg.receive();
            }
        }
        for peer in self.peers.take() {
            peer.join().expect("a peer finished");
        }
        self.ledger.assert_balanced(&format!("{run:?}"));
        assert!(
            self.ledger.received.count() >= 2 * self.n,
            "{run:?}: everything fed"
        );
    }
}

/// The body waits on every kind of timer in turn: `sleep`, `after`, `tick`, `park_timeout`,
/// `recv_timeout` on a channel nobody sends on, and `select!` with a `default(timeout)`.
/// Each call that returned is counted; the body holds a counted value it drops once.
pub struct Timers {
    returned: AtomicU64,
    holds: Arc<crate::inject_scenarios::coroutines::Counts>,
    n: u64,
}

pub fn timers(n: u64) -> Timers {
    Timers {
        returned: AtomicU64::new(0),
        holds: Arc::default(),
        n,
    }
}

const SHORT: Duration = Duration::from_micros(300);

impl Scenario for Timers {
    fn body(&self) {
        let _held = crate::inject_scenarios::coroutines::Counted::new(&self.holds, 1);
        let tick = mpmc::tick(SHORT);
        let (_keep, silent) = mpmc::unbounded::<()>();
        for round in 0..self.n {
            match round % 6 {
                0 => coroutine::sleep(SHORT),
                1 => drop(mpmc::after(SHORT).recv().expect("fires")),
                2 => drop(tick.recv().expect("ticks")),
                3 => coroutine::park_timeout(SHORT),
                4 => assert!(silent.recv_timeout(SHORT).is_err()),
                _ => may::select! {
                    recv(silent) -> _ => unreachable!("nobody sends"),
                    default(SHORT) => {}
                },
            }
            self.returned.fetch_add(1, SeqCst);
        }
    }

    fn check(&self, run: &Run) {
        assert_eq!(
            self.holds.dropped.get(),
            self.holds.created.get(),
            "{run:?}"
        );
        let returned = self.returned.load(SeqCst);
        assert!(returned <= self.n, "{run:?}");
        if run.ended == crate::cancel_support::injection::Ended::Returned {
            assert_eq!(returned, self.n, "{run:?}");
        }
    }
}
