//! An unbounded channel gives back the buffer memory a burst made it grow once the burst is
//! drained, so a second, larger burst leaves no more memory behind than the first (the
//! concern of Go's `test/chan/select2.go`). Net heap bytes are counted by this test binary's
//! global allocator, so the file holds this one test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use may::sync::mpmc;

struct Counting;

static NET_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments, so `System`'s
// guarantees hold; the counter is only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        NET_BYTES.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: forwarded as received (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NET_BYTES.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: forwarded as received (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Sends `n` messages, then receives them all; returns the net heap bytes after.
fn burst(tx: &mpmc::Sender<u64>, rx: &mpmc::Receiver<u64>, n: u64) -> isize {
    for i in 0..n {
        tx.send(i).unwrap();
    }
    let (mut count, mut sum) = (0, 0);
    for _ in 0..n {
        sum += rx.recv().unwrap();
        count += 1;
    }
    assert_eq!((count, sum), (n, n * (n - 1) / 2));
    NET_BYTES.load(Ordering::SeqCst)
}

#[test]
fn a_drained_burst_leaves_no_memory_behind() {
    let (tx, rx) = mpmc::unbounded::<u64>();
    let after_first = burst(&tx, &rx, 100_000);
    let after_second = burst(&tx, &rx, 400_000);
    // Without giving memory back, the buffer would keep room for 400,000 messages (3 MiB or
    // more) after the second burst.
    let grown = after_second - after_first;
    assert!(
        grown < 64 * 1024,
        "{grown} bytes more after the second burst"
    );
}
