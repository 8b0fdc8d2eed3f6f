//! A small per-thread pseudo-random generator for the fair choice among ready operations.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
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

/// A pseudo-random number in `0..n` (`n > 0`).
#[inline(never)]
pub(crate) fn below(n: usize) -> usize {
    STATE.with(|s| {
        // xorshift64*
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (((r >> 32) * n as u64) >> 32) as usize
    })
}

/// Operations a selection keeps its visiting order for without allocating.
const INLINE: usize = 8;

/// The order in which a selection visits its operations (positions `0..n`): a uniformly random
/// permutation, so that the first ready operation found is uniform among the ready ones (as
/// Go's and crossbeam-channel's selects are), or insertion order for a biased selection.
/// Inline up to 8 operations, allocated beyond.
pub(crate) struct Order {
    inline: [usize; INLINE],
    heap: Vec<usize>,
}

impl Order {
    pub(crate) fn new(n: usize, biased: bool) -> Order {
        let mut order = Order {
            inline: [0; INLINE],
            heap: Vec::new(),
        };
        if n > INLINE {
            order.heap = (0..n).collect();
        }
        let slice = order.slice_mut(n);
        for (k, pos) in slice.iter_mut().enumerate() {
            *pos = k;
        }
        if !biased {
            // Fisher-Yates: every permutation equally likely.
            for k in (1..n).rev() {
                slice.swap(k, below(k + 1));
            }
        }
        order
    }

    fn slice_mut(&mut self, n: usize) -> &mut [usize] {
        if n > INLINE {
            &mut self.heap
        } else {
            &mut self.inline[..n]
        }
    }

    /// The position visited `k`-th.
    #[inline]
    pub(crate) fn get(&self, k: usize) -> usize {
        if self.heap.is_empty() {
            self.inline[k]
        } else {
            self.heap[k]
        }
    }
}
