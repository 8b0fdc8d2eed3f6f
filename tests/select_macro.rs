//! The `select!` macro: native channel branches, general branches in child coroutines,
//! default branches, `biased;`, and control flow in bodies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::sync::{mpmc, mpsc};

#[test]
fn loop_over_two_channels_receives_every_message_once() {
    // Regression test for may issue #102: select! in a loop over two channels lost messages.
    let (tx1, rx1) = mpmc::bounded::<u64>(4);
    let (tx2, rx2) = mpmc::unbounded::<u64>();
    let per = 20_000u64;
    let p1 = coroutine::spawn(move || (0..per).for_each(|i| tx1.send(i).unwrap()));
    let p2 = std::thread::spawn(move || (0..per).for_each(|i| tx2.send(per + i).unwrap()));
    let (mut count, mut sum) = (0u64, 0u64);
    let (mut open1, mut open2) = (true, true);
    while open1 || open2 {
        may::select! {
            recv(rx1) -> m => match m {
                Ok(v) => { count += 1; sum += v; }
                Err(_) => { open1 = false; if !open2 { break; } coroutine::yield_now(); continue; }
            },
            recv(rx2) -> m => match m {
                Ok(v) => { count += 1; sum += v; }
                Err(_) => { open2 = false; if !open1 { break; } }
            },
        }
    }
    p1.join().unwrap();
    p2.join().unwrap();
    assert_eq!(count, 2 * per);
    assert_eq!(sum, (0..2 * per).sum::<u64>());
}

#[test]
fn send_branch_and_returned_values() {
    let (tx, rx) = mpmc::bounded::<&str>(1);
    let (_other_tx, other_rx) = mpsc::channel::<u8>();
    let result = may::select! {
        send(tx, "hello") -> res => { res.unwrap(); "sent" }
        recv(other_rx) -> _m => "received",
    };
    assert_eq!(result, "sent");
    assert_eq!(rx.try_recv(), Ok("hello"));
}

#[test]
fn default_runs_when_nothing_is_ready() {
    let (_tx, rx) = mpmc::unbounded::<u8>();
    let picked = may::select! {
        recv(rx) -> _m => 1,
        default => 2,
    };
    assert_eq!(picked, 2);
    let start = Instant::now();
    let picked = may::select! {
        recv(rx) -> _m => 1,
        default(Duration::from_millis(30)) => 2,
    };
    assert_eq!(picked, 2);
    assert!(start.elapsed() >= Duration::from_millis(30));
}

#[test]
fn timers_and_biased() {
    let (tx, rx) = mpmc::unbounded::<u8>();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let (tx2, rx2) = mpmc::unbounded::<u8>();
    tx2.send(9).unwrap();
    // Both ready: biased picks the first branch every time.
    for expected in [1, 2] {
        let got = may::select! {
            biased;
            recv(rx) -> m => m.unwrap(),
            recv(rx2) -> m => m.unwrap(),
        };
        assert_eq!(got, expected);
    }
    let start = Instant::now();
    let which = may::select! {
        recv(mpmc::after(Duration::from_millis(20))) -> _t => "timer",
        recv(mpmc::never::<u8>()) -> _n => "never",
    };
    assert_eq!(which, "timer");
    assert!(start.elapsed() >= Duration::from_millis(20));
}

#[test]
fn general_branch_wins_and_loser_is_cancelled_before_return() {
    let (_tx, rx) = mpmc::unbounded::<u8>();
    let mut borrowed = vec![1, 2, 3];
    let cancelled = Arc::new(AtomicUsize::new(0));
    struct OnDrop(Arc<AtomicUsize>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let c = cancelled.clone();
    let out = may::select! {
        recv(rx) -> _m => 0,
        n = { coroutine::sleep(Duration::from_millis(5)); borrowed.len() } => n,
        _never = {
            let _guard = OnDrop(c);
            coroutine::sleep(Duration::from_secs(3600));
        } => 99,
    };
    assert_eq!(out, 3);
    assert_eq!(
        cancelled.load(Ordering::SeqCst),
        1,
        "the losing branch unwound before return"
    );
    borrowed.push(4); // the borrow ended: the child finished
    assert_eq!(borrowed.len(), 4);
}

#[test]
fn general_branch_over_a_mutex_and_from_a_thread() {
    let lock = Arc::new(may::sync::Mutex::new(0u32));
    let guard = lock.lock().unwrap();
    let (tx, rx) = mpmc::bounded::<u32>(0);
    let l2 = lock.clone();
    let t = std::thread::spawn(move || {
        may::select! {
            v = *l2.lock().unwrap() => v,
            recv(rx) -> m => m.unwrap() + 100,
        }
    });
    tx.send(5).unwrap();
    assert_eq!(
        t.join().unwrap(),
        105,
        "the channel branch won while the lock was held"
    );
    drop(guard);
}

#[test]
fn panic_in_a_general_branch_propagates() {
    let (_tx, rx) = mpmc::unbounded::<u8>();
    let result = std::panic::catch_unwind(|| {
        may::select! {
            recv(rx) -> _m => 0,
            v = { panic!("branch failed") } => v,
        }
    });
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"branch failed"));
}
