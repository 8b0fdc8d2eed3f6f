//! `pat = rx.recv() => body` in `select!`, as may 0.3's branches wrote a channel receive, is the
//! native `recv(rx) -> pat => body`: it works on mpsc receivers (which are not `Sync`), gives
//! `pat` the type of `rx.recv()`, and loses no message when another branch wins. Written in
//! parentheses, `pat = (x.recv())` stays a general branch, for a `recv` of another type.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use may::coroutine;
use may::select;
use may::sync::{mpmc, mpsc, oneshot};

#[test]
fn a_may_0_3_select_over_mpsc_receivers() {
    let (tx1, rx1) = mpsc::channel();
    let (tx2, rx2) = mpsc::channel();
    let sender = may::go!(move || {
        tx2.send("hello").unwrap();
        tx1.send(42).unwrap();
    });
    sender.join().unwrap();
    // A ready `rx2` wins over an hour of sleep; the branch value is returned.
    let got = select! {
        _ = coroutine::sleep(Duration::from_secs(3600)) => None,
        a = rx2.recv() => Some(a),
    };
    assert_eq!(got, Some(Ok("hello")));
    let got: Result<i32, mpsc::RecvError> = select! {
        v = rx1.recv() => v,
    };
    assert_eq!(got, Ok(42));
}

struct Inbox {
    urgent: mpsc::Receiver<u64>,
    normal: mpmc::Receiver<u64>,
}

#[test]
fn every_message_is_received_once_through_recv_branches() {
    const PER_SENDER: u64 = 2_000;
    let (urgent_tx, urgent) = mpsc::sync_channel(4);
    let (normal_tx, normal) = mpmc::bounded(4);
    let inbox = Inbox { urgent, normal };
    let senders = [
        may::go!(move || (1..=PER_SENDER).for_each(|i| urgent_tx.send(i).unwrap())),
        may::go!(move || (1..=PER_SENDER).for_each(|i| normal_tx.send(i).unwrap())),
    ];
    let (mut count, mut sum) = (0u64, 0u64);
    let (mut urgent_open, mut normal_open) = (true, true);
    let never = mpmc::never::<u64>();
    while urgent_open || normal_open {
        let urgent_end: &mpsc::Receiver<u64> = &inbox.urgent;
        let normal_end = if normal_open { &inbox.normal } else { &never };
        select! {
            m = urgent_end.recv() => match m {
                Ok(v) => { count += 1; sum += v; }
                Err(_) => urgent_open = false,
            },
            m = normal_end.recv() => match m {
                Ok(v) => { count += 1; sum += v; }
                Err(mpmc::RecvError) => normal_open = false,
            },
            _ = coroutine::sleep(Duration::from_secs(3600)) => unreachable!("messages keep coming"),
        }
        if !urgent_open {
            // Drain the rest of the other channel without the closed one.
            for v in inbox.normal.iter() {
                count += 1;
                sum += v;
            }
            normal_open = false;
        }
    }
    for sender in senders {
        sender.join().unwrap();
    }
    assert_eq!(count, 2 * PER_SENDER);
    assert_eq!(sum, 2 * PER_SENDER * (PER_SENDER + 1) / 2);
}

#[test]
fn a_disconnected_receiver_is_ready_with_the_error() {
    let (tx, rx) = mpsc::channel::<u8>();
    drop(tx);
    let got = select! {
        v = rx.recv() => v,
        default(Duration::from_secs(3600)) => Ok(0),
    };
    assert_eq!(got, Err(mpsc::RecvError));
}

/// A type of the user's with a blocking `recv`, which is not a channel.
struct Countdown(AtomicU32);

impl Countdown {
    fn recv(&self) -> u32 {
        coroutine::yield_now();
        self.0.fetch_sub(1, Ordering::SeqCst) - 1
    }
}

#[test]
fn parentheses_keep_a_general_branch() {
    let (tx, rx) = mpsc::channel::<u32>();
    let countdown = Countdown(AtomicU32::new(10));
    let left = select! {
        n = (countdown.recv()) => n,
        m = rx.recv() => m.unwrap(),
    };
    assert_eq!(left, 9);
    assert_eq!(countdown.0.load(Ordering::SeqCst), 9);
    drop(tx);

    // A oneshot receiver's `recv` takes it by value: a general branch in parentheses.
    let (once_tx, once_rx) = oneshot::channel();
    once_tx.send(7u8).unwrap();
    let got = select! {
        v = (once_rx.recv()) => v.unwrap(),
    };
    assert_eq!(got, 7);
}
