//! A small per-thread pseudo-random generator for the fair choice among ready operations.

use std::cell::Cell;

thread_local! {
    /// 0 until first used (a seed is never 0).
    static STATE: Cell<u64> = const { Cell::new(0) };
}

fn seed() -> u64 {
    // The address of a stack variable and the time differ between threads and runs; the
    // generator only needs to be unbiased, not unpredictable.
    let local = 0u8;
    let addr = std::ptr::addr_of!(local) as u64;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    (addr ^ nanos.rotate_left(32)) | 1
}

/// A pseudo-random 64-bit word (xorshift64*).
#[inline]
fn next_word() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = seed();
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// Draws a number in `0..n` (`n > 0`) from `word` and leaves in `word` the randomness it did not
/// use (Lemire's multiply-shift: the high half of `word * n` is the draw, the low half is
/// uniform again), so one word serves several draws. The bias is at most `n / 2^64` per draw
/// while `word` still holds enough randomness: a selection of up to 8 operations uses
/// log2(8!) < 16 of its 64 bits.
#[inline]
fn draw(word: &mut u64, n: usize) -> usize {
    let m = u128::from(*word) * n as u128;
    *word = m as u64;
    (m >> 64) as usize
}

/// Operations a selection keeps its visiting order for without allocating.
const INLINE: usize = 8;

/// The order in which a selection visits its operations (positions `0..n`): a uniformly random
/// permutation, so that the first ready operation found is uniform among the ready ones (as
/// Go's and crossbeam-channel's selects are), or insertion order for a biased selection.
/// Inline up to 8 operations, allocated beyond.
#[derive(Debug)]
pub(crate) struct Order {
    /// Positions `0..n` when `n <= INLINE` (positions fit in a byte).
    inline: [u8; INLINE],
    /// Positions `0..n` when `n > INLINE`; empty otherwise.
    heap: Vec<usize>,
}

impl Order {
    pub(crate) fn new(n: usize, biased: bool) -> Order {
        let mut order = Order {
            inline: [0, 1, 2, 3, 4, 5, 6, 7],
            heap: Vec::new(),
        };
        if biased || n < 2 {
            if n > INLINE {
                order.heap = (0..n).collect();
            }
            return order;
        }
        // Fisher-Yates: every permutation equally likely.
        let mut word = next_word();
        if n <= INLINE {
            for k in (1..n).rev() {
                order.inline.swap(k, draw(&mut word, k + 1));
            }
        } else {
            order.heap = (0..n).collect();
            for k in (1..n).rev() {
                // A fresh word every 8 draws keeps the bias negligible for large selections.
                if k % INLINE == 0 {
                    word = next_word();
                }
                order.heap.swap(k, draw(&mut word, k + 1));
            }
        }
        order
    }

    /// The position visited `k`-th.
    #[inline]
    pub(crate) fn get(&self, k: usize) -> usize {
        if self.heap.is_empty() {
            usize::from(self.inline[k])
        } else {
            self.heap[k]
        }
    }
}
