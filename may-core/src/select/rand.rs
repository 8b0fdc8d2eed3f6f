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
    /// Positions `0..n` when `n <= INLINE`, one per byte: byte `k` is the position visited
    /// `k`-th. A word in a register, not a byte array: the shuffle's byte stores followed by a
    /// word-sized copy of the array stalled on store forwarding, half of `Order::new`'s time
    /// (`perf annotate` of a `select!` over two channels).
    inline: u64,
    /// Positions `0..n` when `n > INLINE`; empty otherwise.
    heap: Vec<usize>,
}

/// Positions `0..8` in visiting order, one per byte (see `Order::inline`).
const IDENTITY: u64 = 0x0706_0504_0302_0100;

/// `word` with its bytes `i` and `j` (`< 8`) swapped.
#[inline]
fn swap_bytes(word: u64, i: usize, j: usize) -> u64 {
    let diff = ((word >> (8 * i)) ^ (word >> (8 * j))) & 0xff;
    word ^ (diff << (8 * i)) ^ (diff << (8 * j))
}

impl Order {
    pub(crate) fn new(n: usize, biased: bool) -> Order {
        let mut order = Order {
            inline: IDENTITY,
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
                order.inline = swap_bytes(order.inline, k, draw(&mut word, k + 1));
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
            ((self.inline >> (8 * k)) & 0xff) as usize
        } else {
            self.heap[k]
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn visits(order: &Order, n: usize) -> Vec<usize> {
        (0..n).map(|k| order.get(k)).collect()
    }

    /// Every order is a permutation of `0..n`, inline (up to 8) and on the heap (beyond), and
    /// a biased order is the identity.
    #[test]
    fn orders_are_permutations() {
        for n in [1, 2, 3, 7, 8, 9, 20] {
            for _ in 0..200 {
                let mut seen = visits(&Order::new(n, false), n);
                seen.sort_unstable();
                assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
            }
            let biased = visits(&Order::new(n, true), n);
            assert_eq!(biased, (0..n).collect::<Vec<_>>(), "biased, n = {n}");
        }
    }

    /// The six orders of three operations come up equally often (60,000 draws: each within 5%
    /// of 10,000, where the standard deviation is under 100).
    #[test]
    fn orders_of_three_are_uniform() {
        let mut counts = std::collections::HashMap::new();
        for _ in 0..60_000 {
            *counts
                .entry(visits(&Order::new(3, false), 3))
                .or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 6, "{counts:?}");
        for (order, count) in &counts {
            assert!(
                (9_500..=10_500).contains(count),
                "{order:?} came {count} times"
            );
        }
    }

    #[test]
    fn swap_bytes_swaps_two_bytes() {
        assert_eq!(swap_bytes(IDENTITY, 0, 1), 0x0706_0504_0302_0001);
        assert_eq!(swap_bytes(IDENTITY, 7, 2), 0x0206_0504_0307_0100);
        assert_eq!(swap_bytes(IDENTITY, 3, 3), IDENTITY);
    }
}
