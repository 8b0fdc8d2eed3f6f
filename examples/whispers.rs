//! Go's "Chinese whispers": a chain of 10,000 coroutines, each receiving a number from its
//! right neighbour and passing it, plus one, to its left.
//!
//! Run: `cargo run --release -p may --example whispers`

use std::time::Instant;

use may::go;
use may::sync::mpmc::{bounded, Receiver, Sender};

const LINKS: usize = 10_000;

fn whisper(left: Sender<u64>, right: Receiver<u64>) {
    if let Ok(v) = right.recv() {
        let _ = left.send(v + 1);
    }
}

#[may::main]
fn main() {
    let start = Instant::now();
    let (leftmost_tx, leftmost) = bounded(0);
    let mut left = leftmost_tx;
    let mut handles = Vec::with_capacity(LINKS);
    for _ in 0..LINKS {
        let (tx, right) = bounded(0);
        handles.push(go!(whisper(left, right)));
        left = tx;
    }
    left.send(1).expect("the chain is listening");
    let heard = leftmost.recv().expect("the chain answers");
    for h in handles {
        h.join().expect("a link panicked");
    }
    assert_eq!(heard, 1 + LINKS as u64);
    println!(
        "{LINKS} coroutines whispered {heard} in {:?}",
        start.elapsed()
    );
}
