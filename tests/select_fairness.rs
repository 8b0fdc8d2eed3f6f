//! Among operations that are ready at the same time, `select!` and `Select` choose uniformly
//! at random, wherever the ready ones stand among the branches. Go's `TestSelectFairness`
//! (runtime/chan_test.go) in our words: two full channels listed after two rendezvous channels
//! nobody uses, 10,000 selects, and each full channel must win half of them within Go's
//! five-nines margin; plus the same with a dozen operations.

use std::time::Duration;

use may::select::Select;
use may::sync::mpmc::{self, Receiver};

const TRIALS: usize = 10_000;

/// Fails unless every count is `TRIALS / counts.len()` within the margin Go uses for two
/// outcomes at a confidence of five nines (4.4172 standard deviations), and they add up.
fn assert_uniform(counts: &[usize]) {
    assert_eq!(counts.iter().sum::<usize>(), TRIALS, "{counts:?}");
    let p = 1.0 / counts.len() as f64;
    let sd = (TRIALS as f64 * p * (1.0 - p)).sqrt();
    for &c in counts {
        let off = (c as f64 - TRIALS as f64 * p).abs();
        assert!(off <= 4.4172 * sd, "not uniform: {counts:?}");
    }
}

/// A channel that stays ready for the whole test.
fn full_channel(tag: usize) -> Receiver<usize> {
    let (tx, rx) = mpmc::bounded(TRIALS + 1);
    for _ in 0..=TRIALS {
        tx.send(tag).unwrap();
    }
    rx
}

#[test]
fn select_macro_after_two_idle_branches() {
    let run = || {
        let (_tx3, idle3) = mpmc::bounded::<usize>(0);
        let (_tx4, idle4) = mpmc::bounded::<usize>(0);
        let (full1, full2) = (full_channel(0), full_channel(1));
        let mut counts = [0; 2];
        for _ in 0..TRIALS {
            let won = may::select! {
                recv(idle3) -> m => m.unwrap(),
                recv(idle4) -> m => m.unwrap(),
                recv(full1) -> m => m.unwrap(),
                recv(full2) -> m => m.unwrap(),
            };
            counts[won] += 1;
        }
        counts
    };
    // In a coroutine, as Go's goroutine does.
    let counts = may::coroutine::spawn(run).join().unwrap();
    assert_uniform(&counts);
}

#[test]
fn select_macro_one_idle_branch_first() {
    let (_tx, idle) = mpmc::unbounded::<usize>();
    let (full1, full2) = (full_channel(0), full_channel(1));
    let mut counts = [0; 2];
    for _ in 0..TRIALS {
        let won = may::select! {
            recv(idle) -> m => m.unwrap(),
            recv(full1) -> m => m.unwrap(),
            recv(full2) -> m => m.unwrap(),
            default(Duration::from_secs(10)) => unreachable!("two channels are ready"),
        };
        counts[won] += 1;
    }
    assert_uniform(&counts);
}

/// Twelve operations (more than a selection keeps inline), three of them ready: receives at
/// positions 1 and 6, and a send with free room at position 11.
#[test]
fn dynamic_select_three_ready_among_twelve() {
    let idle: Vec<_> = (0..9).map(|_| mpmc::unbounded::<usize>()).collect();
    let (full1, full2) = (full_channel(0), full_channel(1));
    let (room, drain) = mpmc::unbounded::<usize>();
    let mut sel = Select::new();
    let mut idle_ops = idle.iter().map(|(_, rx)| rx);
    let mut index = Vec::new();
    for pos in 0..12 {
        index.push(match pos {
            1 => sel.recv(&full1),
            6 => sel.recv(&full2),
            11 => sel.send(&room),
            _ => sel.recv(idle_ops.next().unwrap()),
        });
    }
    let mut counts = [0; 3];
    for _ in 0..TRIALS {
        let oper = sel.select();
        let i = oper.index();
        if i == index[1] {
            assert_eq!(oper.recv(&full1), Ok(0));
            counts[0] += 1;
        } else if i == index[6] {
            assert_eq!(oper.recv(&full2), Ok(1));
            counts[1] += 1;
        } else if i == index[11] {
            oper.send(&room, 2).unwrap();
            counts[2] += 1;
        } else {
            panic!("an idle operation was selected");
        }
    }
    assert_uniform(&counts);
    assert_eq!(drain.len(), counts[2]);
}
