//! A tour of the macros: `#[may::main]` with options and a `Result`, `#[may::coroutine]`,
//! `go!` with a Go-style call, and `join!` over borrowed data.
//!
//! Run: `cargo run --release -p may --example macros` (add an argument to see the error path:
//! `cargo run -p may --example macros -- oops` exits with status 1 and `Error: ...`).

use std::error::Error;

use may::{go, join};

/// Counts the words of `text` in its own coroutine; calling it returns a `JoinHandle<usize>`.
#[may::coroutine(stack = "64KiB", name = "counter")]
fn count_words(text: String) -> usize {
    text.split_whitespace().count()
}

/// The sum of the first `n` squares, yielding to the other coroutines now and then.
fn sum_squares(n: u64) -> u64 {
    (0..n)
        .map(|i| {
            if i % 64 == 0 {
                may::coroutine::yield_now();
            }
            i * i
        })
        .sum()
}

#[may::main(workers = 2, stack = "32KiB")]
fn main() -> Result<(), Box<dyn Error>> {
    let words = count_words("the quick brown fox".to_string());

    // Go style: `n` is evaluated here, `squares` runs in the new coroutine.
    let n: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 10,
    };
    let squares = go!(name = "squares", sum_squares(n));
    let total = squares.join()?;

    // join! runs each expression in a coroutine; they may borrow `data`.
    let data: Vec<u64> = (1..=100).collect();
    let (sum, max) = join!(
        data.iter().sum::<u64>(),
        data.iter().copied().max().unwrap_or(0)
    );

    println!(
        "words: {}, sum of {n} squares: {total}, sum: {sum}, max: {max}",
        words.join()?
    );
    Ok(())
}
