//! `may::sync::Semaphore`: exact totals and a bound on concurrency from coroutines and threads
//! mixed, `try_acquire`, `acquire_timeout` on time, `add_permits` (and its overflow panic), and
//! cancellation of a coroutine blocked in `acquire`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::sync::Semaphore;

#[test]
fn counter_1000_coroutines_and_4_threads_with_bounded_concurrency() {
    const PERMITS: usize = 3;
    let sem = Arc::new(Semaphore::new(PERMITS));
    let inside = Arc::new(AtomicUsize::new(0));
    let max_inside = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let work = |sem: Arc<Semaphore>,
                inside: Arc<AtomicUsize>,
                max_inside: Arc<AtomicUsize>,
                total: Arc<AtomicUsize>,
                iters: usize| {
        move || {
            for _ in 0..iters {
                let _p = sem.acquire();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max_inside.fetch_max(now, Ordering::SeqCst);
                coroutine::yield_now();
                total.fetch_add(1, Ordering::SeqCst);
                inside.fetch_sub(1, Ordering::SeqCst);
            }
        }
    };
    let args = || {
        (
            sem.clone(),
            inside.clone(),
            max_inside.clone(),
            total.clone(),
        )
    };
    let cos: Vec<_> = (0..1_000)
        .map(|_| {
            let (s, i, m, t) = args();
            coroutine::spawn(work(s, i, m, t, 5))
        })
        .collect();
    let ths: Vec<_> = (0..4)
        .map(|_| {
            let (s, i, m, t) = args();
            std::thread::spawn(work(s, i, m, t, 500))
        })
        .collect();
    cos.into_iter().for_each(|h| h.join().unwrap());
    ths.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(total.load(Ordering::SeqCst), 1_000 * 5 + 4 * 500);
    assert!(max_inside.load(Ordering::SeqCst) <= PERMITS);
    assert_eq!(sem.available_permits(), PERMITS);
}

#[test]
fn try_acquire_and_forget() {
    let sem = Semaphore::new(1);
    let p = sem.try_acquire().expect("one permit");
    assert!(sem.try_acquire().is_none());
    drop(p);
    sem.try_acquire().expect("released").forget();
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn acquire_timeout_returns_on_time() {
    let check = || {
        let sem = Semaphore::new(0);
        let start = Instant::now();
        assert!(sem.acquire_timeout(Duration::from_millis(30)).is_none());
        start.elapsed()
    };
    let elapsed = check();
    assert!(elapsed >= Duration::from_millis(30), "early: {elapsed:?}");
    let elapsed = coroutine::spawn(check).join().unwrap();
    assert!(elapsed >= Duration::from_millis(30), "early: {elapsed:?}");
}

#[test]
fn add_permits_wakes_waiters_in_order() {
    let sem = Arc::new(Semaphore::new(0));
    let got = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..20)
        .map(|_| {
            let (sem, got) = (sem.clone(), got.clone());
            coroutine::spawn(move || {
                sem.acquire().forget();
                got.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let t = {
        let sem = sem.clone();
        std::thread::spawn(move || sem.acquire().forget())
    };
    sem.add_permits(21);
    hs.into_iter().for_each(|h| h.join().unwrap());
    t.join().unwrap();
    assert_eq!(got.load(Ordering::SeqCst), 20);
    assert_eq!(sem.available_permits(), 0);
}

#[test]
#[should_panic(expected = "overflows")]
fn permit_overflow_panics() {
    let sem = Semaphore::new(usize::MAX);
    sem.add_permits(1);
}

#[test]
fn cancel_coroutine_blocked_in_acquire() {
    let sem = Arc::new(Semaphore::new(1));
    let drops = Arc::new(AtomicUsize::new(0));
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let held = sem.acquire();
    let (s, t) = (sem.clone(), Token(drops.clone()));
    let victim = coroutine::spawn(move || {
        let _t = t;
        s.acquire().forget();
    });
    let s = sem.clone();
    let next = coroutine::spawn(move || s.acquire().forget());
    victim.coroutine().cancel();
    assert!(victim.join().unwrap_err().is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(held);
    next.join().unwrap();
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);
}
