//! Coroutine stacks: carved out of large mappings (`slab.rs`), kept for reuse in a small cache
//! per thread and a pool shared by all threads, so that spawning and finishing a coroutine make
//! no system call in the steady state.
//!
//! # Memory that goes back
//! A stack waiting for reuse keeps at most its top [`KEEP_PAGES`] pages resident. Two marker
//! words tell how deep a finished coroutine went: the lowest word of the top page and the lowest
//! word of the page below it. Both read zero on a fresh page and are reset to zero after each
//! use; a coroutine that ran past a page boundary almost always wrote the word just below it.
//! When the second marker changed, the pages below the top two are given back to the kernel.
//! (A deep frame that skips the marker word without writing it goes unnoticed: its pages stay
//! resident until the stack leaves the pool. The markers are a cheap hint, not a guarantee.)

mod size;
mod slab;

use std::cell::RefCell;
use std::io;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub(crate) use size::{checked_stack_size, round_stack_size};
pub use size::{parse_size, DEFAULT_STACK_SIZE, MAX_STACK_SIZE, MIN_STACK_SIZE};
pub(crate) use slab::StackStats;

use crate::sys;

/// Pages at the top of a stack that stay resident while it waits for reuse.
const KEEP_PAGES: usize = 2;
/// Most stacks a thread keeps for itself (lowered by a smaller pool capacity).
const LOCAL_CACHE: usize = 64;
/// Stacks moved between a thread's cache and the shared pool at once.
const BATCH: usize = 32;
/// What `Builder::measure_stack` fills a stack with before the coroutine starts.
const PATTERN: usize = 0x5a5a_5a5a_5a5a_5a5a_u64 as usize;

/// Stacks start at one of this many offsets below the top of their slot ...
const COLORS: usize = 16;
/// ... this many bytes apart (a cache line): the stack tops of many coroutines would otherwise
/// all share one page offset, so the lines a switch touches (saved registers, the last frames)
/// would all compete for the same few cache sets and miss on every switch among a thousand
/// coroutines. Every stack maps one page more than its size, for the offset.
const COLOR_STEP: usize = 64;

/// The location of one stack: its slot's top, its size and its slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawStack {
    /// Highest address (exclusive) of the slot, page-aligned. The mapped stack is
    /// `bottom() .. top` (its size plus one page for the colour), with the guard page right
    /// below it; the coroutine starts at `base()`.
    top: usize,
    /// The usable size asked for (the size class).
    size: usize,
    slab: u32,
    slot: u32,
}

impl RawStack {
    fn new(top: usize, size: usize, slab: u32, slot: u32) -> RawStack {
        RawStack {
            top,
            size,
            slab,
            slot,
        }
    }

    /// Bytes mapped for a stack of `size` usable bytes: the size plus a page for the colour.
    fn mapped_len(size: usize) -> usize {
        size + sys::page_size()
    }

    /// The lowest usable address (the guard page is right below).
    fn bottom(&self) -> usize {
        self.top - Self::mapped_len(self.size)
    }

    /// Where the coroutine's stack starts: a few cache lines below the top (see [`COLORS`]).
    fn base(&self) -> usize {
        self.top - (self.slot as usize % COLORS) * COLOR_STEP
    }
}

/// An owned coroutine stack. Give it back with [`release`] when its coroutine finished;
/// dropping it returns it to the shared pool (a slower path, for errors).
#[derive(Debug)]
pub(crate) struct Stack {
    raw: RawStack,
}

impl Stack {
    /// Where the coroutine's stack starts (its highest address, exclusive).
    pub(crate) fn base(&self) -> usize {
        self.raw.base()
    }

    /// The lowest usable address.
    pub(crate) fn bottom(&self) -> usize {
        self.raw.bottom()
    }

    /// The top of the slot (page-aligned, at or above [`base`](Self::base)).
    #[cfg(all(test, not(loom)))]
    fn top(&self) -> usize {
        self.raw.top
    }

    /// The guard below the stack: `[start, end)` (one page; several on Windows, see
    /// `sys::guard_size`).
    pub(crate) fn guard(&self) -> (usize, usize) {
        let bottom = self.raw.bottom();
        (bottom - sys::guard_size(), bottom)
    }

    /// Bytes mapped for the stack (above the guard).
    fn mapped_len(&self) -> usize {
        RawStack::mapped_len(self.raw.size)
    }

    fn into_raw(self) -> RawStack {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    /// Fills the whole usable stack with [`PATTERN`], so that [`release_measured`] can tell how
    /// much of it the coroutine wrote. Touches every page.
    pub(crate) fn fill_for_measurement(&mut self) {
        let words = self.mapped_len() / std::mem::size_of::<usize>();
        let bottom = self.raw.bottom() as *mut usize;
        for i in 0..words {
            // SAFETY: `bottom + i` stays inside the usable stack, which we own and nobody runs
            // on yet.
            unsafe { bottom.add(i).write_volatile(PATTERN) };
        }
    }

    /// Whether the coroutine that used the stack went below its top [`KEEP_PAGES`] pages (see
    /// the module docs); resets the markers for the next use.
    fn went_deep(&self) -> bool {
        let page = sys::page_size();
        let pages = self.mapped_len() / page;
        let mut depth = 0;
        while depth + 1 < pages.min(KEEP_PAGES + 1) {
            let marker = (self.raw.top - (depth + 1) * page) as *mut usize;
            // SAFETY: the marker is the lowest word of a page inside the usable stack, which
            // the finished coroutine no longer uses. A marker is read only when the one above
            // it changed, so the read rarely meets a page that is not resident.
            let value = unsafe { marker.read_volatile() };
            if value == 0 {
                return false;
            }
            // SAFETY: as above.
            unsafe { marker.write_volatile(0) };
            depth += 1;
        }
        depth >= KEEP_PAGES
    }

    /// Under valgrind: the finished coroutine's frames, which memcheck marked inaccessible as
    /// they returned, are plain memory again for the runtime's reads of the markers (and for
    /// the next coroutine on this stack, whose frames memcheck tracks as they are pushed).
    fn readable_again(&self) {
        sys::valgrind::make_mem_defined(self.raw.bottom(), self.mapped_len());
    }

    /// Gives back the pages below the top `keep` pages.
    fn release_below(&self, keep: usize) {
        let page = sys::page_size();
        let keep_bytes = (keep * page).min(self.mapped_len());
        let len = self.mapped_len() - keep_bytes;
        if len == 0 {
            return;
        }
        if let Err(err) = sys::release_pages(self.raw.bottom(), len) {
            log::warn!("may: releasing the pages of a finished coroutine's stack failed: {err}");
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        give_back([self.raw]);
    }
}

/// Returns stacks to the shared pool or their slabs, and sweeps when that asks for it and the
/// sweeps' time budget allows (see [`SWEEP_SHARE`]).
fn give_back(stacks: impl IntoIterator<Item = RawStack>) {
    let mut slabs = slab::lock();
    if slabs.give(stacks) && sweep_clock_ms() >= NEXT_SWEEP_MS.load(Ordering::Relaxed) {
        run_sweep(slabs);
    }
}

// SAFETY: `base` is the top of a usable region of at least `size` bytes (below the top of the
// slot by a multiple of 64, so aligned to `STACK_ALIGNMENT`), `limit` is the bottom of the guard
// right below it; the region is owned by this value until it is released. On Windows the TEB
// fields describe the same region and its guard pages as `sys::carve_stack` laid them out.
unsafe impl corosensei::stack::Stack for Stack {
    fn base(&self) -> corosensei::stack::StackPointer {
        match NonZeroUsize::new(self.raw.base()) {
            Some(top) => top,
            None => unreachable!("a stack's top is never address 0"),
        }
    }

    fn limit(&self) -> corosensei::stack::StackPointer {
        match NonZeroUsize::new(self.guard().0) {
            Some(limit) => limit,
            None => unreachable!("a stack's guard is never at address 0"),
        }
    }

    /// The TEB's view of the stack while it runs (see `sys/windows/memory.rs`): the usable
    /// stack, the reservation's bottom (the hard guard page), and the bytes the overflow
    /// handler is guaranteed.
    #[cfg(windows)]
    fn teb_fields(&self) -> corosensei::stack::StackTebFields {
        corosensei::stack::StackTebFields {
            StackBase: self.raw.top,
            StackLimit: self.raw.bottom(),
            DeallocationStack: self.guard().0,
            GuaranteedStackBytes: sys::stack_guarantee(),
        }
    }

    /// Ignored: the only change Windows makes while a coroutine runs is growing its stack by a
    /// page of the soft guard (when the coroutine went just past its size). The next use starts
    /// from the original limit again, which only makes stack probes start higher; the guard
    /// pages left still end in an overflow report.
    #[cfg(windows)]
    fn update_teb_fields(&mut self, _stack_limit: usize, _guaranteed_stack_bytes: usize) {}
}

/// The allocator's numbers now.
pub(crate) fn stats() -> StackStats {
    slab::lock().stats()
}

/// Most stacks a thread's cache keeps.
static LOCAL_LIMIT: AtomicUsize = AtomicUsize::new(LOCAL_CACHE);

/// Sets the pool sizes: `capacity` per thread cache (at most [`LOCAL_CACHE`]) and `shared` in
/// the pool shared by all threads. 0 disables pooling.
pub(crate) fn set_pool_capacity(capacity: usize, shared: usize) {
    LOCAL_LIMIT.store(capacity.min(LOCAL_CACHE), Ordering::Relaxed);
    slab::lock().set_pool_limit(shared);
}

/// The finished stacks this thread keeps; given to the shared pool when the thread exits.
struct Cache {
    stacks: Vec<RawStack>,
}

impl Drop for Cache {
    fn drop(&mut self) {
        give_back(self.stacks.drain(..));
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const { RefCell::new(Cache { stacks: Vec::new() }) };
}

/// Runs `f` with this thread's cache; `None` once the thread is tearing down its locals.
// Never inlined: coroutines call this, and may not keep a thread-local's address across a
// switch (see DESIGN.md on thread-locals).
#[inline(never)]
fn with_cache<R>(f: impl FnOnce(&mut Vec<RawStack>) -> R) -> Option<R> {
    CACHE
        .try_with(|cache| f(&mut cache.borrow_mut().stacks))
        .ok()
}

/// A stack of `size` usable bytes (page-rounded, see [`checked_stack_size`]): from this thread's
/// cache, else a batch from the shared pool, else a batch of free or new slots of the slabs.
pub(crate) fn allocate(size: usize) -> io::Result<Stack> {
    let cached = with_cache(|cache| {
        let pos = cache.iter().rposition(|s| s.size == size)?;
        Some(cache.swap_remove(pos))
    })
    .flatten();
    if let Some(raw) = cached {
        return Ok(Stack { raw });
    }
    let mut slabs = slab::lock();
    let refilled = with_cache(|cache| {
        slabs.take_pooled(size, BATCH, cache);
        let pos = cache.iter().rposition(|s| s.size == size)?;
        Some(cache.swap_remove(pos))
    })
    .flatten();
    if let Some(raw) = refilled {
        return Ok(Stack { raw });
    }
    // Nothing pooled: fresh slots, a batch of them while the cache has room.
    let limit = LOCAL_LIMIT.load(Ordering::Relaxed);
    let fresh = with_cache(|cache| {
        let more = limit.saturating_sub(cache.len() + 1).min(BATCH - 1);
        slabs.take_batch(size, more, cache)
    })
    .unwrap_or_else(|| slabs.take(size));
    fresh.map(|raw| Stack { raw })
}

/// Takes back the stack of a finished coroutine: pages a deep call touched go back to the
/// kernel, then the stack waits in this thread's cache (or the shared pool) for reuse.
pub(crate) fn release(stack: Stack) {
    stack.readable_again();
    if stack.went_deep() {
        stack.release_below(KEEP_PAGES);
    }
    cache_or_share(stack.into_raw());
}

/// [`release`] for a stack filled by [`Stack::fill_for_measurement`]: returns how many bytes
/// the coroutine wrote, then gives back all but the top page.
pub(crate) fn release_measured(stack: Stack) -> usize {
    stack.readable_again();
    let words = stack.mapped_len() / std::mem::size_of::<usize>();
    let bottom = stack.raw.bottom() as *const usize;
    let untouched = (0..words)
        // SAFETY: inside the usable stack, which the finished coroutine no longer uses.
        .take_while(|&i| unsafe { bottom.add(i).read_volatile() } == PATTERN)
        .count();
    let lowest_written = stack.raw.bottom() + untouched * std::mem::size_of::<usize>();
    let used = stack.raw.base().saturating_sub(lowest_written);
    stack.release_below(1);
    let page = sys::page_size();
    let marker = (stack.raw.top - page) as *mut usize;
    // SAFETY: the lowest word of the top page, inside the usable stack; it holds the pattern.
    unsafe { marker.write_volatile(0) };
    cache_or_share(stack.into_raw());
    used
}

fn cache_or_share(raw: RawStack) {
    let limit = LOCAL_LIMIT.load(Ordering::Relaxed);
    let cached = with_cache(|cache| {
        if limit == 0 {
            give_back([raw]);
            return;
        }
        cache.push(raw);
        if cache.len() > limit {
            // The oldest (coldest) ones go to the shared pool.
            let n = BATCH.min(cache.len());
            give_back(cache.drain(..n));
        }
    });
    if cached.is_none() {
        // The thread is tearing down its locals: straight to the shared pool.
        give_back([raw]);
    }
}

/// No sweep starts before this time, in milliseconds on [`sweep_clock_ms`]'s clock.
static NEXT_SWEEP_MS: AtomicU64 = AtomicU64::new(0);
/// Shortest time between two sweeps.
const SWEEP_INTERVAL_MS: u64 = 20;
/// Sweeps take at most about one part in this many of the time: a sweep is followed by a pause
/// `SWEEP_SHARE - 1` times as long as it took (at least [`SWEEP_INTERVAL_MS`]). A sweep after a
/// fall from a million coroutines gives back gigabytes, tens of milliseconds of kernel work and
/// TLB shootdowns, on cores the remaining work needs; the pause keeps that from taking them over,
/// and the memory still goes back within a second or so. (Go paces its scavenger, which gives
/// free heap and stack memory back, to a small share of CPU time in the same spirit.)
const SWEEP_SHARE: u64 = 10;

fn sweep_clock_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Runs a sweep (unless another one is running) and sets when the next one may start.
fn run_sweep(slabs: std::sync::MutexGuard<'static, slab::Slabs>) {
    let start = sweep_clock_ms();
    if slab::sweep(slabs) {
        let end = sweep_clock_ms();
        let pause = end
            .saturating_sub(start)
            .saturating_mul(SWEEP_SHARE - 1)
            .max(SWEEP_INTERVAL_MS);
        NEXT_SWEEP_MS.store(end.saturating_add(pause), Ordering::Relaxed);
    }
}

/// Gives the memory of stacks that went back to their slabs to the kernel (see `slab.rs`).
/// Called by a worker that ran out of work, when the sweeps' time budget allows (see
/// [`SWEEP_SHARE`]): when a sweep is wanted but not due yet, returns how long until it is (the
/// worker sleeps no longer than that, so memory goes back even if it then stays idle).
pub(crate) fn sweep_if_due() -> Option<Duration> {
    let Some(slabs) = slab::try_lock() else {
        // Another thread is at the slabs; look again later.
        return Some(Duration::from_millis(SWEEP_INTERVAL_MS));
    };
    if !slabs.has_warm() {
        return None;
    }
    let now = sweep_clock_ms();
    let next = NEXT_SWEEP_MS.load(Ordering::Relaxed);
    if now < next {
        return Some(Duration::from_millis(next - now));
    }
    run_sweep(slabs);
    None
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A stack that went below its top two pages has the pages under them given back (they
    /// read zero again), and its markers are reset for the next use.
    #[test]
    fn a_deep_stack_gives_its_lower_pages_back() {
        let page = sys::page_size();
        let stack = allocate(round_stack_size(8 * page)).unwrap();
        let deep = (stack.top() - 3 * page - 64) as *mut usize;
        for (depth, value) in [(1, 11), (2, 22)] {
            let marker = (stack.top() - depth * page) as *mut usize;
            // SAFETY: inside the usable stack we own.
            unsafe { marker.write_volatile(value) };
        }
        // SAFETY: as above.
        unsafe { deep.write_volatile(33) };
        assert!(stack.went_deep());
        stack.release_below(KEEP_PAGES);
        // SAFETY: as above; released pages read as zero.
        let word = unsafe { deep.read_volatile() };
        assert_eq!(word, 0, "the deep page was released");
        assert!(!stack.went_deep(), "the markers were reset");
        release(stack);
    }

    /// A stack that stayed in its top page is not released at all.
    #[test]
    fn a_shallow_stack_keeps_its_pages() {
        let page = sys::page_size();
        let stack = allocate(round_stack_size(8 * page)).unwrap();
        let top_word = (stack.top() - 64) as *mut usize;
        // SAFETY: inside the usable stack we own.
        unsafe { top_word.write_volatile(7) };
        assert!(!stack.went_deep());
        // SAFETY: as above.
        assert_eq!(unsafe { top_word.read_volatile() }, 7);
        release(stack);
    }
}
