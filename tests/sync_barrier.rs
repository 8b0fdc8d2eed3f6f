//! `may::sync::Barrier`: coroutines and threads mixed, exactly one leader per generation, all
//! participants released only after all arrived, and a cancelled waiter withdraws its arrival.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::coroutine;
use may::sync::Barrier;

#[test]
fn one_leader_per_generation_coroutines_and_threads() {
    const CO: usize = 5;
    const TH: usize = 3;
    const N: usize = CO + TH;
    const GENERATIONS: usize = 50;
    let barrier = Arc::new(Barrier::new(N));
    let arrived = Arc::new(AtomicUsize::new(0));
    let early = Arc::new(AtomicUsize::new(0));
    let body = |b: Arc<Barrier>, arrived: Arc<AtomicUsize>, early: Arc<AtomicUsize>| {
        move || {
            let mut leaders = 0;
            for g in 0..GENERATIONS {
                arrived.fetch_add(1, Ordering::SeqCst);
                if b.wait().is_leader() {
                    leaders += 1;
                }
                if arrived.load(Ordering::SeqCst) < N * (g + 1) {
                    early.fetch_add(1, Ordering::SeqCst);
                }
            }
            leaders
        }
    };
    let cos: Vec<_> = (0..CO)
        .map(|_| coroutine::spawn(body(barrier.clone(), arrived.clone(), early.clone())))
        .collect();
    let ths: Vec<_> = (0..TH)
        .map(|_| std::thread::spawn(body(barrier.clone(), arrived.clone(), early.clone())))
        .collect();
    let mut leaders: usize = cos.into_iter().map(|h| h.join().unwrap()).sum();
    leaders += ths.into_iter().map(|h| h.join().unwrap()).sum::<usize>();
    assert_eq!(leaders, GENERATIONS);
    assert_eq!(arrived.load(Ordering::SeqCst), N * GENERATIONS);
    assert_eq!(early.load(Ordering::SeqCst), 0);
}

#[test]
fn barrier_of_zero_and_one_never_blocks() {
    assert!(Barrier::new(0).wait().is_leader());
    let b = Barrier::new(1);
    assert!(b.wait().is_leader());
    assert!(b.wait().is_leader());
}

#[test]
fn cancelled_waiter_withdraws_its_arrival() {
    let barrier = Arc::new(Barrier::new(2));
    let drops = Arc::new(AtomicUsize::new(0));
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (b, t) = (barrier.clone(), Token(drops.clone()));
    let victim = coroutine::spawn(move || {
        let _t = t;
        b.wait();
    });
    victim.coroutine().cancel();
    // The victim either never arrived or withdrew; if it completed a generation alone with
    // nobody else there, that would be a bug, so `join` must report the cancellation.
    assert!(victim.join().unwrap_err().is_cancelled());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let b = barrier.clone();
    let co = coroutine::spawn(move || b.wait().is_leader());
    let th_leader = barrier.wait().is_leader();
    let co_leader = co.join().unwrap();
    assert!(th_leader ^ co_leader, "exactly one leader");
}
