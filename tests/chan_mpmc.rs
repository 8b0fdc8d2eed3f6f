//! `may::sync::mpmc`: the crossbeam-channel API and semantics, from coroutines and threads.
//! Behaviour ported from crossbeam-channel's `tests/{array,list,zero}.rs` (smoke, capacity,
//! len, try/timeout variants, disconnection, drops).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::sync::mpmc::{
    self, RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn smoke_every_flavor() {
    for (tx, rx) in [mpmc::unbounded(), mpmc::bounded(1), mpmc::bounded(8)] {
        tx.try_send(7).unwrap();
        assert_eq!(rx.try_recv(), Ok(7));
        tx.send(8).unwrap();
        assert_eq!(rx.recv(), Ok(8));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(rx.recv_timeout(ms(5)), Err(RecvTimeoutError::Timeout));
    }
    let (tx, rx) = mpmc::bounded::<i32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn capacity_len_is_full() {
    let (tx, rx) = mpmc::bounded::<u8>(2);
    assert_eq!((tx.capacity(), rx.capacity()), (Some(2), Some(2)));
    assert!(tx.is_empty() && !tx.is_full());
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!((tx.len(), rx.len()), (2, 2));
    assert!(rx.is_full());
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    assert_eq!(tx.send_timeout(3, ms(5)), Err(SendTimeoutError::Timeout(3)));
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.len(), 1);
    let (tx, rx) = mpmc::unbounded::<u8>();
    assert_eq!(tx.capacity(), None);
    assert!(!rx.is_full());
    let (tx, rx) = mpmc::bounded::<u8>(0);
    assert_eq!(tx.capacity(), Some(0));
    assert!(tx.is_full() && rx.is_empty());
}

#[test]
fn disconnection_gives_messages_back() {
    let (tx, rx) = mpmc::bounded(1);
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.recv(), Ok(1), "buffered messages survive the senders");
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(rx.recv_timeout(ms(1)), Err(RecvTimeoutError::Disconnected));

    let (tx, rx) = mpmc::unbounded::<String>();
    drop(rx);
    let err = tx.send("a".into()).unwrap_err();
    assert_eq!(err, SendError(String::from("a")));
    assert_eq!(err.to_string(), "sending on a disconnected channel");
    assert_eq!(
        tx.try_send("b".into()),
        Err(TrySendError::Disconnected("b".into()))
    );
}

#[test]
fn blocked_sender_and_receiver_wake_on_disconnect() {
    for cap in [0, 1] {
        let (tx, rx) = mpmc::bounded::<u32>(cap);
        if cap == 1 {
            tx.send(0).unwrap();
        }
        // Whether the sender is already blocked or not, it must get its message back.
        let h = coroutine::spawn(move || tx.send(5));
        drop(rx);
        assert_eq!(h.join().unwrap(), Err(SendError(5)));

        let (tx, rx) = mpmc::bounded::<u32>(cap);
        let h = coroutine::spawn(move || rx.recv());
        drop(tx);
        assert_eq!(h.join().unwrap(), Err(RecvError));
    }
}

#[test]
fn same_channel_and_clones() {
    let (tx, rx) = mpmc::unbounded::<i32>();
    let (tx2, rx2) = mpmc::unbounded::<i32>();
    assert!(tx.same_channel(&tx.clone()));
    assert!(!tx.same_channel(&tx2));
    assert!(rx.same_channel(&rx.clone()));
    assert!(!rx.same_channel(&rx2));
    assert!(mpmc::never::<i32>().same_channel(&mpmc::never()));
    let rx3 = rx.clone();
    drop(rx);
    tx.send(1).unwrap();
    assert_eq!(rx3.recv(), Ok(1), "a clone keeps the channel connected");
}

#[test]
fn timeouts_return_on_time() {
    let (tx, rx) = mpmc::bounded::<i32>(0);
    for (who, run) in [("thread", false), ("coroutine", true)] {
        let (tx, rx) = (tx.clone(), rx.clone());
        let body = move || {
            let start = Instant::now();
            assert_eq!(rx.recv_timeout(ms(30)), Err(RecvTimeoutError::Timeout));
            let recv_took = start.elapsed();
            let start = Instant::now();
            assert_eq!(
                tx.send_timeout(1, ms(30)),
                Err(SendTimeoutError::Timeout(1))
            );
            let send_took = start.elapsed();
            let deadline = Instant::now() + ms(20);
            assert_eq!(rx.recv_deadline(deadline), Err(RecvTimeoutError::Timeout));
            assert!(Instant::now() >= deadline);
            (recv_took, send_took)
        };
        let (r, s) = if run {
            coroutine::spawn(body).join().unwrap()
        } else {
            std::thread::spawn(body).join().unwrap()
        };
        for took in [r, s] {
            assert!(took >= ms(30), "{who}: returned early after {took:?}");
            assert!(took < ms(1_000), "{who}: returned late after {took:?}");
        }
    }
}

#[test]
fn timers_after_tick_never() {
    let start = Instant::now();
    let a = mpmc::after(ms(20));
    assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
    let fired = a.recv().unwrap();
    assert!(fired >= start + ms(20) && Instant::now() >= start + ms(20));
    assert_eq!(
        a.recv_timeout(ms(5)),
        Err(RecvTimeoutError::Timeout),
        "one message only"
    );

    let t = mpmc::tick(ms(10));
    let first = t.recv().unwrap();
    let second = t.recv().unwrap();
    assert!(second >= first + ms(10));

    let n = mpmc::never::<u8>();
    assert_eq!(n.try_recv(), Err(TryRecvError::Empty));
    let start = Instant::now();
    assert_eq!(n.recv_timeout(ms(15)), Err(RecvTimeoutError::Timeout));
    assert!(start.elapsed() >= ms(15));
    assert_eq!(n.capacity(), Some(0));
}

#[test]
fn iterators() {
    let (tx, rx) = mpmc::unbounded();
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_iter().take(2).collect::<Vec<_>>(), [0, 1]);
    drop(tx);
    assert_eq!(rx.iter().collect::<Vec<_>>(), [2, 3, 4]);
    let (tx, rx) = mpmc::bounded(0);
    let h = coroutine::spawn(move || (0..100).for_each(|i| tx.send(i).unwrap()));
    assert_eq!(rx.into_iter().sum::<i32>(), 4950);
    h.join().unwrap();
}

/// A value that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// sent = received + dropped, for every flavor, with messages left in the buffer, in blocked
/// senders and given back by failed sends.
#[test]
fn drop_counters_every_flavor() {
    for cap in [None, Some(0), Some(1), Some(5)] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = match cap {
            None => mpmc::unbounded(),
            Some(c) => mpmc::bounded(c),
        };
        let sent = 50usize;
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let (tx, drops) = (tx.clone(), drops.clone());
                coroutine::spawn(move || {
                    let mut ok = 0;
                    for _ in 0..sent / 2 {
                        // A failed send gives the message back; it drops here.
                        if tx.send(Counted(drops.clone())).is_ok() {
                            ok += 1;
                        }
                    }
                    ok
                })
            })
            .collect();
        drop(tx);
        let mut received = 0;
        for _ in 0..10 {
            if rx.recv().is_ok() {
                received += 1;
            }
        }
        drop(rx); // drops the buffered ones, wakes the blocked senders
        let accepted: usize = producers.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(received, 10, "cap {cap:?}");
        assert!(accepted >= received, "cap {cap:?}");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            sent,
            "cap {cap:?}: every message dropped once"
        );
    }
}

#[test]
fn threads_and_coroutines_mixed() {
    for cap in [None, Some(0), Some(3)] {
        let (tx, rx) = match cap {
            None => mpmc::unbounded::<u64>(),
            Some(c) => mpmc::bounded(c),
        };
        let per = 2_000u64;
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        for i in 0..4u64 {
            let tx = tx.clone();
            let work = move || (0..per).for_each(|v| tx.send(i * per + v).unwrap());
            if i % 2 == 0 {
                senders.push(std::thread::spawn(work).join_handle_any());
            } else {
                senders.push(coroutine::spawn(work).join_handle_any());
            }
            let rx = rx.clone();
            let work = move || rx.iter().fold((0u64, 0u64), |(n, s), v| (n + 1, s + v));
            if i % 2 == 1 {
                receivers.push(Handle::Thread(std::thread::spawn(work)));
            } else {
                receivers.push(Handle::Co(coroutine::spawn(work)));
            }
        }
        drop((tx, rx));
        senders.into_iter().for_each(|j| j());
        let (n, s) = receivers
            .into_iter()
            .map(Handle::join)
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        assert_eq!(n, 4 * per, "cap {cap:?}");
        assert_eq!(s, (0..4 * per).sum::<u64>(), "cap {cap:?}");
    }
}

enum Handle<T> {
    Thread(std::thread::JoinHandle<T>),
    Co(coroutine::JoinHandle<T>),
}

impl<T> Handle<T> {
    fn join(self) -> T {
        match self {
            Handle::Thread(h) => h.join().unwrap(),
            Handle::Co(h) => h.join().unwrap(),
        }
    }
}

trait JoinAny {
    fn join_handle_any(self) -> Box<dyn FnOnce()>;
}

impl JoinAny for std::thread::JoinHandle<()> {
    fn join_handle_any(self) -> Box<dyn FnOnce()> {
        Box::new(move || self.join().unwrap())
    }
}

impl JoinAny for coroutine::JoinHandle<()> {
    fn join_handle_any(self) -> Box<dyn FnOnce()> {
        Box::new(move || self.join().unwrap())
    }
}

#[test]
fn cancelled_receiver_loses_nothing() {
    let (tx, rx) = mpmc::bounded::<u32>(0);
    let rx2 = rx.clone();
    // Cancelled while blocked or before it blocks: either way it unwinds at the receive.
    let blocked = coroutine::spawn(move || rx2.recv());
    blocked.coroutine().cancel();
    let err = blocked.join().unwrap_err();
    assert!(err.is_cancelled());
    // The message goes to the remaining receiver, not to the cancelled one.
    let s = coroutine::spawn(move || tx.send(9));
    assert_eq!(rx.recv(), Ok(9));
    assert_eq!(s.join().unwrap(), Ok(()));
}

#[test]
fn cancelled_sender_gives_back_nothing_twice() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpmc::bounded::<Counted>(0);
    let msg = Counted(drops.clone());
    let blocked = coroutine::spawn(move || tx.send(msg).is_ok());
    blocked.coroutine().cancel();
    assert!(blocked.join().unwrap_err().is_cancelled());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the unsent message dropped once"
    );
    assert_eq!(rx.try_recv().err(), Some(TryRecvError::Disconnected));
}

/// Cancelling a receiver in the middle of a stream loses nothing: what the cancelled receiver
/// got plus what the survivor got is everything sent, for every capacity.
#[test]
fn cancel_during_stream_loses_nothing() {
    for cap in [None, Some(0), Some(1), Some(4)] {
        let (tx, rx) = match cap {
            None => mpmc::unbounded::<u64>(),
            Some(c) => mpmc::bounded(c),
        };
        let n = 2_000u64;
        let victim_sum = Arc::new(AtomicUsize::new(0));
        let victim = {
            let (rx, sum) = (rx.clone(), victim_sum.clone());
            coroutine::spawn(move || {
                for v in rx.iter() {
                    sum.fetch_add(v as usize, Ordering::SeqCst);
                }
            })
        };
        // The producer keeps the channel open until told, so the victim cannot finish by
        // itself: it must be cancelled.
        let (release_tx, release_rx) = mpmc::bounded::<()>(1);
        let producer = std::thread::spawn(move || {
            for v in 1..=n {
                tx.send(v).unwrap();
            }
            release_rx.recv().unwrap();
        });
        // Cancel once the victim has received something (bounded wait), mid-stream.
        for _ in 0..1_000_000 {
            if victim_sum.load(Ordering::SeqCst) > 0 {
                break;
            }
            std::thread::yield_now();
        }
        victim.coroutine().cancel();
        assert!(victim.join().unwrap_err().is_cancelled(), "cap {cap:?}");
        release_tx.send(()).unwrap();
        let survivor: u64 = rx.iter().sum();
        producer.join().unwrap();
        let total = survivor + victim_sum.load(Ordering::SeqCst) as u64;
        assert_eq!(total, n * (n + 1) / 2, "cap {cap:?}: a message was lost");
    }
}

/// `try_recv` and `select!`'s first try look at an empty channel without its lock; a message
/// sent before the look (here: before a flag the receiver waited for) is never missed, on
/// every capacity, including a sender blocked on a rendezvous channel and a disconnection.
#[test]
fn lock_free_empty_check_misses_nothing_that_happened_before() {
    const ROUNDS: usize = 20_000;
    for cap in [None, Some(1), Some(0)] {
        let (tx, rx) = match cap {
            None => mpmc::unbounded::<usize>(),
            Some(c) => mpmc::bounded::<usize>(c),
        };
        let sent = Arc::new(AtomicUsize::new(0));
        let sender = {
            let sent = Arc::clone(&sent);
            std::thread::spawn(move || {
                for i in 0..ROUNDS {
                    if cap == Some(0) {
                        // Announce first, then block in send until the receiver takes it.
                        sent.store(i + 1, Ordering::Release);
                        tx.send(i).unwrap();
                    } else {
                        tx.send(i).unwrap();
                        sent.store(i + 1, Ordering::Release);
                    }
                }
                drop(tx);
                sent.store(ROUNDS + 1, Ordering::Release);
            })
        };
        let (_idle_tx, idle) = mpmc::unbounded::<usize>();
        for i in 0..ROUNDS {
            while sent.load(Ordering::Acquire) < i + 1 {
                std::hint::spin_loop();
            }
            // On a rendezvous channel the sender may not have registered yet: retry a while.
            let got = if cap == Some(0) {
                let start = Instant::now();
                loop {
                    match rx.try_recv() {
                        Ok(v) => break v,
                        Err(_) => {
                            assert!(start.elapsed() < Duration::from_secs(5), "round {i}");
                            std::thread::yield_now();
                        }
                    }
                }
            } else if i % 2 == 0 {
                rx.try_recv()
                    .unwrap_or_else(|e| panic!("cap {cap:?} round {i}: {e:?}"))
            } else {
                may::select! {
                    recv(idle) -> m => panic!("idle channel gave {m:?}"),
                    recv(rx) -> m => m.unwrap(),
                    default => panic!("cap {cap:?} round {i}: the sent message was missed"),
                }
            };
            assert_eq!(got, i, "cap {cap:?}");
        }
        while sent.load(Ordering::Acquire) < ROUNDS + 1 {
            std::hint::spin_loop();
        }
        assert_eq!(
            rx.try_recv(),
            Err(TryRecvError::Disconnected),
            "cap {cap:?}"
        );
        sender.join().unwrap();
    }
}
