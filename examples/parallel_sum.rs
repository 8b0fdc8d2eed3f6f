//! CPU-bound work spread over coroutines: the sum of squares of 0..50,000,000 in 64 chunks.
//! Long loops yield now and then so that other coroutines on the same worker get turns.
//!
//! Run: `cargo run --release -p may --example parallel_sum`

use std::time::Instant;

use may::go;

const N: u64 = 50_000_000;
const CHUNKS: u64 = 64;

fn sum_of_squares(range: std::ops::Range<u64>) -> u64 {
    let mut total = 0u64;
    for (step, i) in range.enumerate() {
        total = total.wrapping_add(i.wrapping_mul(i));
        if step % 1_000_000 == 999_999 {
            may::coroutine::yield_now();
        }
    }
    total
}

#[may::main]
fn main() {
    let start = Instant::now();
    let per = N / CHUNKS;
    let handles: Vec<_> = (0..CHUNKS)
        .map(|c| go!(sum_of_squares(c * per..(c + 1) * per)))
        .collect();
    let total = handles
        .into_iter()
        .map(|h| h.join().expect("a chunk panicked"))
        .fold(0u64, u64::wrapping_add);
    let expected = sum_of_squares(0..N);
    assert_eq!(total, expected);
    println!(
        "sum of squares below {N} = {total} (mod 2^64), {CHUNKS} coroutines on {} workers, {:?}",
        may::config().workers(),
        start.elapsed()
    );
}
