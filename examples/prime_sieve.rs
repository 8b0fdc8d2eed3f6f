//! Go's concurrent prime sieve: a pipeline of coroutines connected by rendezvous channels, one
//! filter coroutine per prime found.
//!
//! Run: `cargo run --release -p may --example prime_sieve`

use may::go;
use may::sync::mpmc::{bounded, Receiver, Sender};

const PRIMES: usize = 1_000;

/// Sends 2, 3, 4, ... until the receiver goes away.
fn generate(tx: Sender<u64>) {
    for i in 2.. {
        if tx.send(i).is_err() {
            return;
        }
    }
}

/// Passes on the values of `rx` that `prime` does not divide.
fn filter(rx: Receiver<u64>, tx: Sender<u64>, prime: u64) {
    for i in rx {
        if i % prime != 0 && tx.send(i).is_err() {
            return;
        }
    }
}

#[may::main]
fn main() {
    let (tx, mut rx) = bounded(0);
    let mut stages = vec![go!(generate(tx))];
    let mut primes = Vec::with_capacity(PRIMES);
    for _ in 0..PRIMES {
        let prime = rx.recv().expect("the pipeline ends only when we drop it");
        primes.push(prime);
        let (tx, next) = bounded(0);
        stages.push(go!(filter(rx, tx, prime)));
        rx = next;
    }
    // Dropping the last receiver makes every stage's send fail in turn, so all of them end.
    drop(rx);
    for stage in stages {
        stage.join().expect("a stage panicked");
    }
    assert_eq!(primes[..10], [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
    assert_eq!(primes[PRIMES - 1], 7919, "the 1000th prime");
    println!(
        "the first {PRIMES} primes end with {:?}",
        &primes[PRIMES - 5..]
    );
}
