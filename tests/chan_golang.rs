//! Go's channel tests, ported to `may::sync::mpmc` (as crossbeam-channel's `tests/golang.rs`
//! does): `runtime/chan_test.go` (TestChan, TestMultiConsumer, TestNonblockRecvRace,
//! TestSelfSelect's channel half) and `test/chan/{fifo,sieve1,nonblock}.go`. Goroutines become
//! coroutines; Go's `close` is dropping the last sender; Go's zero-value receive from a closed
//! channel is `Err(RecvError)`. Waits Go does with `time.Sleep` are bounded `recv_timeout`s
//! here that only check what must not happen.

use std::time::Duration;

use may::coroutine;
use may::sync::mpmc::{self, RecvTimeoutError, TryRecvError, TrySendError};

fn chan<T>(cap: usize) -> (mpmc::Sender<T>, mpmc::Receiver<T>) {
    mpmc::bounded(cap)
}

/// TestChan, for capacities 0..=16.
#[test]
fn test_chan() {
    const N: i64 = 200;
    for cap in 0..=16usize {
        // A receive from an empty channel blocks.
        let (tx, rx) = chan::<i64>(cap);
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(1)),
            Err(RecvTimeoutError::Timeout)
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

        // A send to a full channel blocks.
        for i in 0..cap as i64 {
            tx.try_send(i).unwrap();
        }
        assert_eq!(tx.try_send(99), Err(TrySendError::Full(99)), "cap {cap}");
        for i in 0..cap as i64 {
            assert_eq!(rx.recv(), Ok(i));
        }

        // Closing unblocks a blocked receiver; receives from a closed channel fail at once.
        let r2 = rx.clone();
        let h = coroutine::spawn(move || r2.recv());
        drop(tx);
        assert!(h.join().unwrap().is_err());
        assert!(rx.recv().is_err());

        // Values sent before the close are still received, then the close is seen.
        let (tx, rx) = chan::<i64>(cap);
        let h = coroutine::spawn(move || {
            for i in 0..cap as i64 {
                tx.send(i).unwrap();
            }
        });
        h.join().unwrap_or(());
        for i in 0..cap as i64 {
            assert_eq!(rx.recv(), Ok(i));
        }
        assert!(rx.recv().is_err());

        // FIFO.
        let (tx, rx) = chan::<i64>(cap);
        let h = coroutine::spawn(move || (0..N).for_each(|i| tx.send(i).unwrap()));
        for i in 0..N {
            assert_eq!(rx.recv(), Ok(i), "cap {cap}");
        }
        h.join().unwrap();

        // Send 100 integers from 4 coroutines, receive them in 4: each exactly once.
        let (tx, rx) = chan::<i64>(cap);
        let (done_tx, done_rx) = mpmc::unbounded::<Vec<i64>>();
        for _ in 0..4 {
            let tx = tx.clone();
            coroutine::spawn(move || (0..N).for_each(|i| tx.send(i).unwrap()));
            let (rx, done_tx) = (rx.clone(), done_tx.clone());
            coroutine::spawn(move || {
                let mut seen = vec![0; N as usize];
                for _ in 0..N {
                    seen[rx.recv().unwrap() as usize] += 1;
                }
                done_tx.send(seen).unwrap();
            });
        }
        let mut seen = vec![0; N as usize];
        for _ in 0..4 {
            for (s, v) in seen.iter_mut().zip(done_rx.recv().unwrap()) {
                *s += v;
            }
        }
        assert_eq!(seen, vec![4; N as usize], "cap {cap}");

        // len and cap.
        let (tx, rx) = chan::<i64>(cap);
        assert_eq!((tx.len(), tx.capacity()), (0, Some(cap)));
        for i in 0..cap as i64 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), cap);
    }
}

/// TestMultiConsumer: 23 consumers, 271,828 items through two channels; count and sum.
#[test]
fn test_multi_consumer() {
    const NWORK: usize = 23;
    const NITER: usize = 271_828;
    let pn = [2i64, 3, 7, 11, 13, 17, 19, 23, 27, 31];
    let (q_tx, q_rx) = chan::<i64>(NWORK * 3);
    let (r_tx, r_rx) = chan::<i64>(NWORK * 3);
    let workers: Vec<_> = (0..NWORK)
        .map(|w| {
            let (q_rx, r_tx) = (q_rx.clone(), r_tx.clone());
            coroutine::spawn(move || {
                for v in q_rx.iter() {
                    // mess with the fifo-ish nature of range
                    if pn[w % pn.len()] == v {
                        coroutine::yield_now();
                    }
                    r_tx.send(v).unwrap();
                }
            })
        })
        .collect();
    drop((q_rx, r_tx));
    let feeder = coroutine::spawn(move || {
        let mut expect = 0;
        for i in 0..NITER {
            let v = pn[i % pn.len()];
            expect += v;
            q_tx.send(v).unwrap();
        }
        expect
    });
    let (mut n, mut s) = (0, 0);
    for v in r_rx.iter() {
        n += 1;
        s += v;
    }
    workers.into_iter().for_each(|w| w.join().unwrap());
    assert_eq!(n, NITER);
    assert_eq!(s, feeder.join().unwrap());
}

/// test/chan/sieve1.go: the prime sieve over a chain of rendezvous channels.
#[test]
fn sieve1() {
    fn filter(input: mpmc::Receiver<u64>, output: mpmc::Sender<u64>, prime: u64) {
        for i in input.iter() {
            if i % prime != 0 && output.send(i).is_err() {
                return;
            }
        }
    }
    let (tx, mut rx) = chan::<u64>(0);
    coroutine::spawn(move || {
        let mut i = 2;
        while tx.send(i).is_ok() {
            i += 1;
        }
    });
    let mut primes = Vec::new();
    for _ in 0..25 {
        let prime = rx.recv().unwrap();
        primes.push(prime);
        let (tx1, rx1) = chan(0);
        coroutine::spawn(move || filter(rx, tx1, prime));
        rx = rx1;
    }
    drop(rx); // the chain unwinds: every send fails from the end backwards
    assert_eq!(primes.iter().sum::<u64>(), 1060);
    assert_eq!(primes[24], 97);
}

/// test/chan/fifo.go: AsynchFifo and SynchFifo (a chain of coroutines passing a token).
#[test]
fn fifo() {
    const N: i32 = 10;
    let (tx, rx) = chan::<i32>(N as usize);
    for i in 0..N {
        tx.send(i).unwrap();
    }
    for i in 0..N {
        assert_eq!(rx.recv(), Ok(i));
    }

    let (tx, rx) = chan::<i32>(0);
    let (mut in_rx, mut out_tx);
    let (first_tx, first_rx) = chan::<()>(0);
    in_rx = first_rx;
    let mut handles = Vec::new();
    for i in 0..N {
        let (next_tx, next_rx) = chan::<()>(0);
        out_tx = next_tx;
        let (tx, rx_in) = (tx.clone(), in_rx);
        handles.push(coroutine::spawn(move || {
            rx_in.recv().unwrap();
            tx.send(i).unwrap();
            out_tx.send(()).unwrap();
        }));
        in_rx = next_rx;
    }
    drop(tx);
    first_tx.send(()).unwrap();
    for i in 0..N {
        assert_eq!(rx.recv(), Ok(i));
    }
    in_rx.recv().unwrap();
    handles.into_iter().for_each(|h| h.join().unwrap());
}

/// test/chan/nonblock.go: non-blocking operations on every capacity succeed only with a
/// partner, and a blocked partner is found.
#[test]
fn nonblock() {
    for cap in [0usize, 1, 10] {
        let (tx, rx) = chan::<i32>(cap);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        if cap == 0 {
            assert!(tx.try_send(1).is_err());
        }
        // A blocked sender is found by try_recv within a bounded number of attempts.
        let t2 = tx.clone();
        let h = coroutine::spawn(move || t2.send(7).unwrap());
        let mut got = None;
        for _ in 0..1_000_000 {
            if let Ok(v) = rx.try_recv() {
                got = Some(v);
                break;
            }
            coroutine::yield_now();
        }
        assert_eq!(got, Some(7), "cap {cap}");
        h.join().unwrap();
        // A blocked receiver is found by try_send.
        let r2 = rx.clone();
        let h = coroutine::spawn(move || r2.recv().unwrap());
        let mut sent = false;
        for _ in 0..1_000_000 {
            if tx.try_send(8).is_ok() {
                sent = true;
                break;
            }
            coroutine::yield_now();
        }
        assert!(sent, "cap {cap}");
        assert_eq!(h.join().unwrap(), 8);
    }
}
