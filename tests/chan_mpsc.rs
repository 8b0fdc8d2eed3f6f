//! `may::sync::mpsc` and `may::sync::oneshot`. The mpsc tests port the behaviour of std's
//! `library/std/src/sync/mpsc/tests.rs` and `sync_tests.rs` (smoke, drops, ports gone, stress,
//! recv_timeout, iterators, sync_channel(0) rendezvous), with coroutines for threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::sync::mpsc::{
    channel, sync_channel, RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError,
};
use may::sync::oneshot;

#[test]
fn smoke() {
    let (tx, rx) = channel::<i32>();
    tx.send(1).unwrap();
    assert_eq!(rx.recv().unwrap(), 1);
    let (tx, rx) = sync_channel::<i32>(1);
    tx.send(1).unwrap();
    assert_eq!(rx.recv().unwrap(), 1);
}

#[test]
fn drop_full_and_ports_gone() {
    let (tx, _rx) = channel::<Box<isize>>();
    tx.send(Box::new(1)).unwrap();
    let (tx, rx) = channel::<i32>();
    drop(rx);
    assert_eq!(tx.send(1), Err(SendError(1)));
    let (tx, rx) = channel::<i32>();
    drop(tx);
    assert_eq!(rx.recv(), Err(RecvError));
    let (tx, rx) = sync_channel::<i32>(0);
    drop(rx);
    assert_eq!(tx.try_send(1), Err(TrySendError::Disconnected(1)));
}

#[test]
fn stress_shared_senders() {
    const AMT: u32 = 10_000;
    const NTHREADS: u32 = 8;
    let (tx, rx) = channel::<u32>();
    let handles: Vec<_> = (0..NTHREADS)
        .map(|t| {
            let tx = tx.clone();
            let body = move || (0..AMT).for_each(|i| tx.send(t * AMT + i).unwrap());
            if t % 2 == 0 {
                Ok(coroutine::spawn(body))
            } else {
                Err(std::thread::spawn(body))
            }
        })
        .collect();
    drop(tx);
    let (n, sum) = rx
        .iter()
        .fold((0u64, 0u64), |(n, s), v| (n + 1, s + u64::from(v)));
    for h in handles {
        match h {
            Ok(h) => h.join().unwrap(),
            Err(h) => h.join().unwrap(),
        }
    }
    assert_eq!(n, u64::from(AMT * NTHREADS));
    assert_eq!(sum, (0..u64::from(AMT * NTHREADS)).sum());
}

#[test]
fn recv_timeout_and_try_recv() {
    let (tx, rx) = channel::<i32>();
    let start = Instant::now();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(20)),
        Err(RecvTimeoutError::Timeout)
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_millis(1)), Ok(1));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Disconnected)
    );
}

#[test]
fn iterators() {
    let (tx, rx) = channel::<i32>();
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2]);
    tx.send(3).unwrap();
    drop(tx);
    assert_eq!((&rx).into_iter().collect::<Vec<_>>(), [3]);
    let (tx, rx) = channel::<i32>();
    tx.send(5).unwrap();
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), [5]);
}

#[test]
fn sync_channel_zero_is_a_rendezvous() {
    let (tx, rx) = sync_channel::<i32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let h = coroutine::spawn(move || {
        tx.send(1).unwrap();
        tx.send(2).unwrap();
    });
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(rx.recv(), Ok(2));
    h.join().unwrap();
    assert_eq!(rx.recv(), Err(RecvError));
}

#[test]
fn sync_channel_blocks_when_full_from_a_thread() {
    let (tx, rx) = sync_channel::<u32>(2);
    let h = std::thread::spawn(move || (0..100).for_each(|i| tx.send(i).unwrap()));
    let got: Vec<u32> = coroutine::spawn(move || rx.iter().collect())
        .join()
        .unwrap();
    h.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn drop_counters() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = sync_channel::<Counted>(3);
    for _ in 0..3 {
        tx.send(Counted(drops.clone())).unwrap();
    }
    drop(rx.recv().unwrap());
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    let err = tx.send(Counted(drops.clone())).unwrap_err();
    drop(err);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn oneshot_sends_one_value() {
    let (tx, rx) = oneshot::channel::<String>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!tx.is_closed());
    coroutine::spawn(move || tx.send("v".to_string()).unwrap());
    assert_eq!(rx.recv().unwrap(), "v");

    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(rx.recv(), Err(RecvError));

    let (tx, rx) = oneshot::channel::<u8>();
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(5)),
        Err(RecvTimeoutError::Timeout)
    );
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(4), Err(SendError(4)));
}
