//! Scoped coroutines borrow data from the stack of the code that spawns them; the scope joins
//! them all before it returns.
//!
//! Run: `cargo run --release -p may --example scoped`

use may::coroutine;

#[may::main]
fn main() {
    let words: Vec<String> = "the quick brown fox jumps over the lazy dog"
        .split(' ')
        .map(str::to_owned)
        .collect();
    let mut lengths = vec![0usize; words.len()];
    coroutine::scope(|s| {
        for (word, slot) in words.iter().zip(lengths.iter_mut()) {
            s.spawn(move || *slot = word.len());
        }
    });
    // The scope has ended: `words` and `lengths` are ours again.
    assert_eq!(lengths, [3, 5, 5, 3, 5, 4, 3, 4, 3]);
    let longest = coroutine::scope(|s| {
        let handles: Vec<_> = words
            .iter()
            .map(|w| s.spawn(move || (w.len(), w)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .max()
    });
    println!(
        "lengths {lengths:?}; longest word {:?}",
        longest.map(|(_, w)| w)
    );
}
