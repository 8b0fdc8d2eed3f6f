//! Channel scenarios: the body is one side of a producer/consumer pair over an mpmc or mpsc
//! channel; after every run each message sent was received exactly once (by the body, its
//! peer, or the check draining the channel) and each message was dropped exactly once.

use std::sync::Arc;
use std::time::Duration;

use crate::cancel_support::injection::{Ended, Ledger, Msg, Run, Scenario, Shelf, HANG};
use may::coroutine::{self, JoinHandle};
use may::sync::{mpmc, mpsc};

/// The timeout of the `_timeout` variants: short, so that some calls time out and retry.
const SHORT: Duration = Duration::from_millis(2);

/// How a side waits.
#[derive(Debug, Clone, Copy)]
pub enum How {
    /// `send` / `recv`.
    Block,
    /// `send_timeout` / `recv_timeout` with [`SHORT`], retried until done.
    Timeout,
}

/// A sending end: gives the message back when every receiver is gone.
pub trait Tx: Send + 'static {
    fn send_msg(&self, msg: Msg, how: How) -> Result<(), Msg>;
}

/// A receiving end: `None` once the channel is empty and every sender gone.
pub trait Rx: Send + 'static {
    fn recv_msg(&self, how: How) -> Option<Msg>;
    /// From the test thread: like `recv`, failing after [`HANG`].
    fn drain_one(&self) -> Option<Msg>;
}

impl Tx for mpmc::Sender<Msg> {
    fn send_msg(&self, mut msg: Msg, how: How) -> Result<(), Msg> {
        loop {
            match how {
                How::Block => return self.send(msg).map_err(|e| e.0),
                How::Timeout => match self.send_timeout(msg, SHORT) {
                    Ok(()) => return Ok(()),
                    Err(mpmc::SendTimeoutError::Timeout(back)) => msg = back,
                    Err(mpmc::SendTimeoutError::Disconnected(back)) => return Err(back),
                },
            }
        }
    }
}

/// mpsc senders have no timeout: `How` only matters for receivers.
impl Tx for mpsc::Sender<Msg> {
    fn send_msg(&self, msg: Msg, _how: How) -> Result<(), Msg> {
        self.send(msg).map_err(|e| e.0)
    }
}

impl Tx for mpsc::SyncSender<Msg> {
    fn send_msg(&self, msg: Msg, _how: How) -> Result<(), Msg> {
        self.send(msg).map_err(|e| e.0)
    }
}

macro_rules! impl_rx {
    ($rx:ty, $err:path) => {
        impl Rx for $rx {
            fn recv_msg(&self, how: How) -> Option<Msg> {
                use $err as E;
                loop {
                    match how {
                        How::Block => return self.recv().ok(),
                        How::Timeout => match self.recv_timeout(SHORT) {
                            Ok(msg) => return Some(msg),
                            Err(E::Timeout) => {}
                            Err(E::Disconnected) => return None,
                        },
                    }
                }
            }

            fn drain_one(&self) -> Option<Msg> {
                use $err as E;
                match self.recv_timeout(HANG) {
                    Ok(msg) => Some(msg),
                    Err(E::Disconnected) => None,
                    Err(E::Timeout) => panic!("the channel was not disconnected in {HANG:?}"),
                }
            }
        }
    };
}

impl_rx!(mpmc::Receiver<Msg>, mpmc::RecvTimeoutError);
impl_rx!(mpsc::Receiver<Msg>, mpsc::RecvTimeoutError);

/// Sends `n` messages, counting those a receiver accepted, then drops `tx`.
fn produce(ledger: &Arc<Ledger>, tx: &impl Tx, how: How, n: u64) {
    for value in 1..=n {
        match tx.send_msg(Msg::new(ledger, value), how) {
            Ok(()) => ledger.sent.add(value),
            Err(back) => drop(back),
        }
        // Lets the receiver catch up now and then, so that it blocks too.
        if value % 3 == 0 {
            coroutine::yield_now();
        }
    }
}

/// Receives until the channel is disconnected.
fn consume(rx: &impl Rx, how: How) {
    while let Some(msg) = rx.recv_msg(how) {
        // Lets the sender fill a bounded channel now and then, so that it blocks too.
        if msg.receive() % 4 == 0 {
            coroutine::yield_now();
        }
    }
}

/// The body consumes; a peer coroutine produces. The check drains what the body left.
pub struct Consumer<R: Rx> {
    ledger: Arc<Ledger>,
    rx: Shelf<R>,
    producer: Shelf<JoinHandle<()>>,
    how: How,
    n: u64,
}

/// The body receives `n` messages (`how`) from a channel a peer coroutine sends them on.
pub fn consumer<T: Tx, R: Rx>((tx, rx): (T, R), how: How, n: u64) -> Consumer<R> {
    let ledger: Arc<Ledger> = Arc::default();
    let producer = {
        let ledger = ledger.clone();
        coroutine::spawn(move || produce(&ledger, &tx, How::Block, n))
    };
    Consumer {
        ledger,
        rx: Shelf::new(rx),
        producer: Shelf::new(producer),
        how,
        n,
    }
}

impl<R: Rx> Scenario for Consumer<R> {
    fn body(&self) {
        consume(&*self.rx.lend(), self.how);
    }

    fn check(&self, run: &Run) {
        let rx = self.rx.take();
        while let Some(msg) = rx.drain_one() {
            msg.receive();
        }
        self.producer.take().join().expect("the producer finished");
        drop(rx);
        assert_eq!(
            self.ledger.sent.count(),
            self.n,
            "{run:?}: every send succeeded"
        );
        self.ledger.assert_balanced(&format!("{run:?}"));
    }
}

/// The body produces (and drops its sender when it ends, however it ends); a peer coroutine
/// consumes until the channel is disconnected.
pub struct Producer<T: Tx> {
    ledger: Arc<Ledger>,
    tx: Shelf<T>,
    consumer: Shelf<JoinHandle<()>>,
    how: How,
    n: u64,
}

/// The body sends `n` messages (`how`) to a peer coroutine that receives until disconnected.
pub fn producer<T: Tx, R: Rx>((tx, rx): (T, R), how: How, n: u64) -> Producer<T> {
    Producer {
        ledger: Arc::default(),
        tx: Shelf::new(tx),
        consumer: Shelf::new(coroutine::spawn(move || consume(&rx, How::Block))),
        how,
        n,
    }
}

impl<T: Tx> Scenario for Producer<T> {
    fn body(&self) {
        let tx = self.tx.take();
        produce(&self.ledger, &tx, self.how, self.n);
    }

    fn check(&self, run: &Run) {
        self.consumer.take().join().expect("the consumer finished");
        self.ledger.assert_balanced(&format!("{run:?}"));
        if run.ended == Ended::Returned {
            assert_eq!(self.ledger.sent.count(), self.n, "{run:?}: all sent");
        }
    }
}
