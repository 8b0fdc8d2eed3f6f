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
