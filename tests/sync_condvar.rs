//! `may::sync::Condvar`: a bounded producer/consumer queue with exact counts and sums from
//! coroutines and threads mixed, `notify_all`, timeouts that return on time, the two-mutex
//! panic, and cancellation of a waiting coroutine.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::sync::{Blocker, Condvar, Mutex};

struct Queue {
    items: Mutex<VecDeque<u64>>,
    not_empty: Condvar,
    not_full: Condvar,
}

const CAP: usize = 4;

impl Queue {
    fn push(&self, v: u64) {
        let g = self.items.lock().unwrap();
        let mut g = self.not_full.wait_while(g, |q| q.len() >= CAP).unwrap();
        g.push_back(v);
        drop(g);
        self.not_empty.notify_one();
    }

    fn pop(&self) -> u64 {
        let g = self.items.lock().unwrap();
        let mut g = self.not_empty.wait_while(g, |q| q.is_empty()).unwrap();
        let v = g.pop_front().expect("not empty");
        drop(g);
        self.not_full.notify_one();
        v
    }
}

#[test]
fn producer_consumer_exact_counts() {
    const PER_PRODUCER: u64 = 500;
    const PRODUCERS: u64 = 6; // 4 coroutines + 2 threads
    const CONSUMERS: u64 = 4; // 2 coroutines + 2 threads
    const TOTAL: u64 = PER_PRODUCER * PRODUCERS;
    let q = Arc::new(Queue {
        items: Mutex::new(VecDeque::new()),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    let produce = |p: u64, q: Arc<Queue>| {
        move || {
            for i in 0..PER_PRODUCER {
                q.push(p * PER_PRODUCER + i);
            }
        }
    };
    let consume = |q: Arc<Queue>| {
        move || {
            let (mut n, mut sum) = (0u64, 0u64);
            for _ in 0..TOTAL / CONSUMERS {
                sum += q.pop();
                n += 1;
            }
            (n, sum)
        }
    };
    let mut co_prod = Vec::new();
    let mut th_prod = Vec::new();
    for p in 0..PRODUCERS {
        if p < 4 {
            co_prod.push(coroutine::spawn(produce(p, q.clone())));
        } else {
            th_prod.push(std::thread::spawn(produce(p, q.clone())));
        }
    }
    let co_cons: Vec<_> = (0..2)
        .map(|_| coroutine::spawn(consume(q.clone())))
        .collect();
    let th_cons: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(consume(q.clone())))
        .collect();
    co_prod.into_iter().for_each(|h| h.join().unwrap());
    th_prod.into_iter().for_each(|h| h.join().unwrap());
    let mut n = 0;
    let mut sum = 0;
    for (cn, cs) in co_cons.into_iter().map(|h| h.join().unwrap()) {
        n += cn;
        sum += cs;
    }
    for (cn, cs) in th_cons.into_iter().map(|h| h.join().unwrap()) {
        n += cn;
        sum += cs;
    }
    assert_eq!(n, TOTAL);
    assert_eq!(sum, (0..TOTAL).sum::<u64>());
    assert!(q.items.lock().unwrap().is_empty());
}

#[test]
fn notify_all_wakes_every_waiter() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let woke = Arc::new(AtomicUsize::new(0));
    let spawn_waiter = |pair: Arc<(Mutex<bool>, Condvar)>, woke: Arc<AtomicUsize>| {
        move || {
            let g = pair
                .1
                .wait_while(pair.0.lock().unwrap(), |go| !*go)
                .unwrap();
            assert!(*g);
            woke.fetch_add(1, Ordering::SeqCst);
        }
    };
    let cos: Vec<_> = (0..50)
        .map(|_| coroutine::spawn(spawn_waiter(pair.clone(), woke.clone())))
        .collect();
    let ths: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(spawn_waiter(pair.clone(), woke.clone())))
        .collect();
    *pair.0.lock().unwrap() = true;
    pair.1.notify_all();
    cos.into_iter().for_each(|h| h.join().unwrap());
    ths.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(woke.load(Ordering::SeqCst), 53);
}

fn check_timeout() -> (bool, Duration) {
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let dur = Duration::from_millis(30);
    let start = Instant::now();
    let (g, res) = cv.wait_timeout(m.lock().unwrap(), dur).unwrap();
    assert_eq!(*g, 0);
    let (_g, res2) = cv.wait_timeout_while(g, dur, |v| *v == 0).unwrap();
    assert!(res2.timed_out());
    (res.timed_out(), start.elapsed())
}

#[test]
fn wait_timeout_returns_on_time_in_thread_and_coroutine() {
    let (timed_out, elapsed) = check_timeout();
    assert!(timed_out);
    assert!(
        elapsed >= Duration::from_millis(60),
        "returned early: {elapsed:?}"
    );
    let (timed_out, elapsed) = coroutine::spawn(check_timeout).join().unwrap();
    assert!(timed_out);
    assert!(
        elapsed >= Duration::from_millis(60),
        "returned early: {elapsed:?}"
    );
}

#[test]
fn wait_timeout_while_sees_the_condition_change() {
    let pair = Arc::new((Mutex::new(0), Condvar::new()));
    let p2 = pair.clone();
    let h = coroutine::spawn(move || {
        *p2.0.lock().unwrap() = 7;
        p2.1.notify_one();
    });
    let (g, res) = pair
        .1
        .wait_timeout_while(pair.0.lock().unwrap(), Duration::from_secs(30), |v| *v == 0)
        .unwrap();
    assert!(!res.timed_out());
    assert_eq!(*g, 7);
    drop(g);
    h.join().unwrap();
}

#[test]
fn two_mutexes_panic() {
    let cv = Condvar::new();
    let m1 = Mutex::new(());
    let m2 = Mutex::new(());
    let _ = cv.wait_timeout(m1.lock().unwrap(), Duration::from_millis(1));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = cv.wait_timeout(m2.lock().unwrap(), Duration::from_millis(1));
    }));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("two mutexes"), "{msg}");
}

#[test]
fn cancel_waiting_coroutine_then_others_are_notified() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let drops = Arc::new(AtomicUsize::new(0));
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (p, t) = (pair.clone(), Token(drops.clone()));
    let victim = coroutine::spawn(move || {
        let _t = t;
        let _g = p.1.wait_while(p.0.lock().unwrap(), |go| !*go).unwrap();
    });
    let p = pair.clone();
    let other = coroutine::spawn(move || *p.1.wait_while(p.0.lock().unwrap(), |go| !*go).unwrap());
    victim.coroutine().cancel();
    assert!(victim.join().unwrap_err().is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    // The victim unwound without leaving the lock held or poisoned (`other` may hold it for a
    // moment on its way into `wait`, so block rather than `try_lock`).
    *pair.0.lock().expect("not poisoned by the cancelled waiter") = true;
    pair.1.notify_one();
    assert!(other.join().unwrap());
}

#[test]
fn notified_waiter_cancelled_while_relocking_passes_the_notification_on() {
    // State: (ready waiters, queued items).
    let pair = Arc::new((Mutex::new((0usize, 0usize)), Condvar::new()));
    let main = Blocker::current();
    let wait_for_item = |pair: Arc<(Mutex<(usize, usize)>, Condvar)>, done: Option<Blocker>| {
        move || {
            let mut g = pair.0.lock().unwrap();
            g.0 += 1;
            let mut g = pair.1.wait_while(g, |s| s.1 == 0).unwrap();
            g.1 -= 1;
            drop(g);
            if let Some(done) = done {
                done.unpark();
            }
        }
    };
    let ready = |n: usize| {
        // The waiter sets `ready` and registers before it unlocks, so once we see it, it waits.
        for _ in 0..1_000_000 {
            if pair.0.lock().unwrap().0 == n {
                return;
            }
            std::thread::yield_now();
        }
        panic!("waiter {n} never got ready");
    };
    let first = coroutine::spawn(wait_for_item(pair.clone(), None));
    ready(1);
    let second = coroutine::spawn(wait_for_item(pair.clone(), Some(main.clone())));
    ready(2);

    let mut g = pair.0.lock().unwrap();
    g.1 += 1;
    pair.1.notify_one(); // goes to `first`, the oldest waiter
    first.coroutine().cancel(); // it unwinds while re-locking the mutex we hold
    for _ in 0..1_000_000 {
        if first.is_done() {
            break;
        }
        std::thread::yield_now();
    }
    assert!(
        first.is_done(),
        "the cancelled waiter should finish without the lock"
    );
    drop(g);
    assert!(first.join().unwrap_err().is_cancelled());
    assert_eq!(
        main.park(Some(Duration::from_secs(20))),
        Ok(()),
        "notification lost"
    );
    second.join().unwrap();
    assert_eq!(pair.0.lock().unwrap().1, 0);
}
