//! Slabs: many stacks carved out of one memory mapping, grouped in size classes, plus the pool
//! of finished stacks that all threads share.
//!
//! A slot of a slab is a guard (`sys::guard_size`) followed by the usable stack. Slots are
//! carved (their guard installed, their memory committed on Windows) on first use. A slot that
//! comes back beyond the pool's limit is *warm* (its pages may still be resident) until a
//! *sweep* gives the pages of warm slots back to the kernel (one call per run of neighbouring
//! slots) and makes them *cold*; a sweep also unmaps every slab
//! whose slots are all back (keeping one per size class). A sweep decides under the lock and
//! makes its system calls outside it, with the slots it handles out of every list meanwhile, so
//! it never stalls a thread that spawns or finishes a coroutine. Sweeps run when a worker runs
//! out of work (see `sweep_if_due`), and in the middle of a busy period once
//! [`SWEEP_WARM_SLOTS`] slots are warm, both within the sweeps' time budget (`SWEEP_SHARE` in
//! `mod.rs`). So a burst of coroutines does not pin its peak memory
//! once it is over, finishing a coroutine never makes a system call of its own, and steady
//! spawning, which lives off the per-thread caches and the pool, makes none at all.

use std::io;
use std::sync::{Mutex, MutexGuard};

use corosensei::stack::valgrind::ValgrindStackRegistration;

use super::RawStack;
use crate::sys::{self, Mapping};

/// Slots of a class's first slab; every further slab doubles, up to [`MAX_SLAB_SLOTS`].
const FIRST_SLAB_SLOTS: usize = 64;
/// Most slots in one slab.
const MAX_SLAB_SLOTS: usize = 16 * 1024;
/// Largest mapping of one slab (large stacks get fewer slots per slab, at least one).
const MAX_SLAB_BYTES: usize = 1 << 30;
/// Warm slots (all classes) that make the next return sweep right away, busy or not.
const SWEEP_WARM_SLOTS: usize = 256 * 1024;

struct Slab {
    mapping: Mapping,
    /// Guard plus usable stack.
    slot_len: usize,
    slots: u32,
    /// Slots `0..carved` have their guard (and, on Windows, committed memory).
    carved: u32,
    /// Slots handed out (running, cached by a thread or in the shared pool).
    live: u32,
    /// Free slots whose pages may still be resident.
    warm: Vec<u32>,
    /// Free slots whose pages were given back.
    cold: Vec<u32>,
    /// Tells valgrind (when it runs us) that the mapping holds stacks; a no-op otherwise.
    _valgrind: ValgrindStackRegistration,
}

impl Slab {
    fn new(slot_len: usize, slots: usize) -> io::Result<Slab> {
        let len = slot_len.checked_mul(slots).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "stack slab size overflows")
        })?;
        let mapping = Mapping::new(len).map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("failed to map {len} bytes for coroutine stacks: {err}"),
            )
        })?;
        let valgrind = ValgrindStackRegistration::new(mapping.addr() as *mut u8, len);
        Ok(Slab {
            mapping,
            slot_len,
            slots: slots as u32,
            carved: 0,
            live: 0,
            warm: Vec::new(),
            cold: Vec::new(),
            _valgrind: valgrind,
        })
    }

    fn slot_addr(&self, slot: u32) -> usize {
        self.mapping.addr() + slot as usize * self.slot_len
    }

    /// A free slot: warm first (its top page is likely resident: no page fault), then cold,
    /// then a new one.
    fn take_slot(&mut self) -> io::Result<Option<u32>> {
        if let Some(slot) = self.warm.pop().or_else(|| self.cold.pop()) {
            return Ok(Some(slot));
        }
        if self.carved == self.slots {
            return Ok(None);
        }
        let slot = self.carved;
        let guard = sys::guard_size();
        sys::carve_stack(self.slot_addr(slot), guard, self.slot_len - guard)?;
        self.carved += 1;
        Ok(Some(slot))
    }

    /// The address ranges of `slots` (sorted) to give back, one per run of neighbours where a
    /// range may span guards (they stay guards), else one per slot.
    fn runs(&self, slots: &[u32]) -> Vec<(usize, usize)> {
        let guard = sys::guard_size();
        let mut ranges = Vec::new();
        let mut i = 0;
        while i < slots.len() {
            let first = slots[i];
            let mut last = first;
            while sys::RELEASE_SPANS_GUARDS && i + 1 < slots.len() && slots[i + 1] == last + 1 {
                i += 1;
                last += 1;
            }
            i += 1;
            let start = self.slot_addr(first) + guard;
            let end = self.slot_addr(last) + self.slot_len;
            ranges.push((start, end - start));
        }
        ranges
    }
}

/// The stacks of one usable size.
struct Class {
    size: usize,
    /// Finished stacks ready for reuse, shared by all threads.
    pooled: Vec<RawStack>,
    /// Indexed by `RawStack::slab`; an unmapped slab leaves `None`.
    slabs: Vec<Option<Slab>>,
    /// No slab below this index has a free slot: where `take` starts looking (a million
    /// stacks fill some sixty slabs, which every take would otherwise walk).
    open: usize,
}

impl Class {
    fn new_slab_slots(&self, slot_len: usize) -> usize {
        let mapped = self.slabs.iter().filter(|s| s.is_some()).count();
        let grown = FIRST_SLAB_SLOTS << mapped.min(16);
        grown
            .min(MAX_SLAB_SLOTS)
            .min(MAX_SLAB_BYTES / slot_len)
            .max(1)
    }

    fn take(&mut self) -> io::Result<RawStack> {
        if let Some(stack) = self.pooled.pop() {
            return Ok(stack);
        }
        let size = self.size;
        let open = self.open.min(self.slabs.len());
        for (index, slab) in self.slabs.iter_mut().enumerate().skip(open) {
            let Some(slab) = slab else { continue };
            if let Some(slot) = slab.take_slot()? {
                self.open = index;
                slab.live += 1;
                return Ok(RawStack::new(
                    slab.slot_addr(slot) + slab.slot_len,
                    size,
                    index as u32,
                    slot,
                ));
            }
        }
        let slot_len = RawStack::mapped_len(size) + sys::guard_size();
        let mut slab = Slab::new(slot_len, self.new_slab_slots(slot_len))?;
        let Some(slot) = slab.take_slot()? else {
            unreachable!("a new slab has a free slot");
        };
        slab.live += 1;
        let index = match self.slabs.iter().position(Option::is_none) {
            Some(index) => index,
            None => {
                self.slabs.push(None);
                self.slabs.len() - 1
            }
        };
        let top = slab.slot_addr(slot) + slot_len;
        self.slabs[index] = Some(slab);
        self.open = index;
        Ok(RawStack::new(top, size, index as u32, slot))
    }

    fn return_to_slab(&mut self, stack: RawStack) {
        let Some(Some(slab)) = self.slabs.get_mut(stack.slab as usize) else {
            unreachable!("a stack's slab stays mapped while the stack is out");
        };
        slab.live -= 1;
        slab.warm.push(stack.slot);
        self.open = self.open.min(stack.slab as usize);
    }

    /// Takes the sweep's work out of this class (see [`Sweep`]).
    fn begin_sweep(&mut self, class: usize, sweep: &mut Sweep) {
        // One empty slab stays mapped (its pages given back), so that a program that spawns in
        // waves does not map and unmap a slab per wave.
        let mut kept_one = false;
        for (index, entry) in self.slabs.iter_mut().enumerate() {
            let Some(slab) = entry else { continue };
            sweep.slots += slab.warm.len();
            if slab.live == 0 && kept_one {
                if let Some(slab) = entry.take() {
                    sweep.unmap.push(slab);
                }
                continue;
            }
            kept_one |= slab.live == 0;
            if slab.warm.is_empty() {
                continue;
            }
            let mut slots = std::mem::take(&mut slab.warm);
            slots.sort_unstable();
            sweep.ranges.extend(slab.runs(&slots));
            sweep.trimmed.push((class, index, slots));
        }
    }
}

/// A sweep's work, taken out under the lock and done outside it: slabs to unmap (dropping them
/// unmaps), ranges to give back, and the slots behind those ranges, which are in no list until
/// [`Slabs::finish_sweep`] makes them cold.
#[derive(Default)]
pub(super) struct Sweep {
    /// Warm slots handled, those of unmapped slabs included.
    slots: usize,
    unmap: Vec<Slab>,
    ranges: Vec<(usize, usize)>,
    trimmed: Vec<(usize, usize, Vec<u32>)>,
}

impl Sweep {
    /// Makes the system calls; then hand the sweep back to [`Slabs::finish_sweep`].
    pub(super) fn run(&mut self) {
        self.unmap.clear();
        for &(start, len) in &self.ranges {
            if let Err(err) = sys::release_pages(start, len) {
                log::warn!("may: releasing the pages of free coroutine stacks failed: {err}");
            }
        }
    }
}

/// The stack allocator's numbers, for the runtime's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StackStats {
    /// Memory mappings holding stacks.
    pub(crate) slabs: usize,
    /// Address space those mappings take (not memory: only touched pages are resident).
    pub(crate) mapped_bytes: usize,
    /// Stacks out of their slabs: in use by a coroutine, or kept for reuse.
    pub(crate) handed_out: usize,
    /// Of those, stacks kept in the pool shared by all threads.
    pub(crate) pooled: usize,
    /// Free stacks whose pages may still be resident (given back at the next sweep).
    pub(crate) free_warm: usize,
    /// Free stacks whose pages were given back.
    pub(crate) free_cold: usize,
}

/// All classes and the shared pool's limit.
pub(super) struct Slabs {
    classes: Vec<Class>,
    /// Most stacks the shared pool keeps, per class.
    pool_limit: usize,
    /// Slots returned to their slabs since the last sweep.
    warm: usize,
    /// A sweep is running (its slots are in no list).
    sweeping: bool,
}

static SLABS: Mutex<Slabs> = Mutex::new(Slabs {
    classes: Vec::new(),
    pool_limit: 1000,
    warm: 0,
    sweeping: false,
});

/// The global slabs. No user code runs under this lock, so poisoning cannot happen; if it did
/// the state is still consistent (every update completes before any call that could fail).
pub(super) fn lock() -> MutexGuard<'static, Slabs> {
    SLABS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The global slabs unless another thread holds them.
pub(super) fn try_lock() -> Option<MutexGuard<'static, Slabs>> {
    match SLABS.try_lock() {
        Ok(guard) => Some(guard),
        Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}

impl Slabs {
    fn class(&mut self, size: usize) -> &mut Class {
        let index = match self.classes.iter().position(|c| c.size == size) {
            Some(index) => index,
            None => {
                self.classes.push(Class {
                    size,
                    pooled: Vec::new(),
                    slabs: Vec::new(),
                    open: 0,
                });
                self.classes.len() - 1
            }
        };
        &mut self.classes[index]
    }

    /// A stack of `size` usable bytes: pooled, else a free or new slot.
    pub(super) fn take(&mut self, size: usize) -> io::Result<RawStack> {
        self.class(size).take()
    }

    /// Like [`take`](Self::take), and up to `more` further stacks into `out`, all under one
    /// lock: a burst of new coroutines on several workers then takes the lock once per batch,
    /// not once per stack. A failure after the first stack only ends the batch (the next take
    /// meets it again and reports it).
    pub(super) fn take_batch(
        &mut self,
        size: usize,
        more: usize,
        out: &mut Vec<RawStack>,
    ) -> io::Result<RawStack> {
        let class = self.class(size);
        let first = class.take()?;
        for _ in 0..more {
            match class.take() {
                Ok(stack) => out.push(stack),
                Err(_) => break,
            }
        }
        Ok(first)
    }

    /// Moves up to `n` pooled stacks of `size` into `out`.
    pub(super) fn take_pooled(&mut self, size: usize, n: usize, out: &mut Vec<RawStack>) {
        let pooled = &mut self.class(size).pooled;
        let keep = pooled.len().saturating_sub(n);
        out.extend(pooled.drain(keep..));
    }

    /// Takes finished stacks back: into the pool while it has room, else to their slabs.
    /// Returns whether so many slots are warm that a sweep should run now (the caller runs it
    /// with [`sweep`] once it is done with the lock).
    #[must_use = "run a sweep when asked to"]
    pub(super) fn give(&mut self, stacks: impl IntoIterator<Item = RawStack>) -> bool {
        let limit = self.pool_limit;
        for stack in stacks {
            let class = self.class(stack.size);
            if class.pooled.len() < limit {
                class.pooled.push(stack);
            } else {
                class.return_to_slab(stack);
                self.warm += 1;
            }
        }
        self.warm >= SWEEP_WARM_SLOTS && !self.sweeping
    }

    /// The allocator's numbers (see [`StackStats`]).
    pub(super) fn stats(&self) -> StackStats {
        let mut stats = StackStats::default();
        for class in &self.classes {
            stats.pooled += class.pooled.len();
            for slab in class.slabs.iter().flatten() {
                stats.slabs += 1;
                stats.mapped_bytes += slab.slot_len * slab.slots as usize;
                stats.handed_out += slab.live as usize;
                stats.free_warm += slab.warm.len();
                stats.free_cold += slab.cold.len();
            }
        }
        stats
    }

    /// Sets how many stacks the shared pool keeps per class; the excess goes back to the slabs.
    pub(super) fn set_pool_limit(&mut self, limit: usize) {
        self.pool_limit = limit;
        for class in &mut self.classes {
            while class.pooled.len() > limit {
                let Some(stack) = class.pooled.pop() else {
                    break;
                };
                class.return_to_slab(stack);
                self.warm += 1;
            }
        }
    }

    /// Starts a sweep (see the module docs): takes the work out, to be run with the lock
    /// released. At most one sweep runs at a time; `None` while another one does.
    pub(super) fn begin_sweep(&mut self) -> Option<Sweep> {
        if self.sweeping {
            return None;
        }
        self.sweeping = true;
        self.warm = 0;
        let mut sweep = Sweep::default();
        for (index, class) in self.classes.iter_mut().enumerate() {
            class.begin_sweep(index, &mut sweep);
        }
        Some(sweep)
    }

    /// Ends a sweep begun by [`begin_sweep`](Self::begin_sweep) and run: its slots are cold.
    pub(super) fn finish_sweep(&mut self, sweep: Sweep) {
        for (class, index, mut slots) in sweep.trimmed {
            let class = &mut self.classes[class];
            let Some(Some(slab)) = class.slabs.get_mut(index) else {
                unreachable!("only a sweep unmaps a slab, and one sweep runs at a time");
            };
            slab.cold.append(&mut slots);
            class.open = class.open.min(index);
        }
        self.sweeping = false;
    }

    /// Whether a sweep has anything to do.
    pub(super) fn has_warm(&self) -> bool {
        self.warm > 0
    }
}

/// Runs a whole sweep: begins it under the lock, makes its system calls without it, finishes it
/// under the lock. Returns whether it ran (another sweep may be running).
pub(super) fn sweep(mut slabs: MutexGuard<'static, Slabs>) -> bool {
    let Some(mut sweep) = slabs.begin_sweep() else {
        return false;
    };
    drop(slabs);
    sweep.run();
    lock().finish_sweep(sweep);
    true
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn empty_slabs(pool_limit: usize) -> Slabs {
        Slabs {
            classes: Vec::new(),
            pool_limit,
            warm: 0,
            sweeping: false,
        }
    }

    fn usage(slabs: &Slabs) -> (usize, u32) {
        let class = &slabs.classes[0];
        let mapped = class.slabs.iter().flatten().count();
        let live = class.slabs.iter().flatten().map(|s| s.live).sum();
        (mapped, live)
    }

    /// A burst of stacks beyond the pool maps slabs that grow; once every stack is back, a
    /// sweep unmaps all slabs but one and gives that one's pages back.
    #[test]
    fn a_sweep_unmaps_empty_slabs_and_releases_pages() {
        let page = sys::page_size();
        let size = 2 * page;
        let mut slabs = empty_slabs(0);
        let stacks: Vec<RawStack> = (0..300).map(|_| slabs.take(size).unwrap()).collect();
        // 64 + 128 + 256 slots: three slabs.
        assert_eq!(usage(&slabs), (3, 300));
        for stack in &stacks {
            // SAFETY: the top word of a usable stack we own.
            unsafe { ((stack.top - 8) as *mut usize).write_volatile(0xabcd) };
        }
        assert!(
            !slabs.give(stacks.iter().copied()),
            "300 warm slots ask for no sweep"
        );
        assert_eq!(usage(&slabs), (3, 0), "nothing is unmapped before a sweep");
        let mut sweep = slabs.begin_sweep().unwrap();
        assert!(slabs.begin_sweep().is_none(), "one sweep at a time");
        assert_eq!(sweep.slots, 300);
        sweep.run();
        slabs.finish_sweep(sweep);
        assert_eq!(usage(&slabs), (1, 0), "one empty slab stays mapped");
        let again = slabs.take(size).unwrap();
        // SAFETY: as above; the kept slab's pages were given back, so they read zero.
        let word = unsafe { ((again.top - 8) as *const usize).read_volatile() };
        assert_eq!(word, 0);
        let _ = slabs.give([again]);
    }

    /// Stacks within the pool's limit stay pooled, and come back first.
    #[test]
    fn the_pool_keeps_stacks_up_to_its_limit() {
        let size = 3 * sys::page_size();
        let mut slabs = empty_slabs(2);
        let stacks: Vec<RawStack> = (0..3).map(|_| slabs.take(size).unwrap()).collect();
        let _ = slabs.give(stacks.iter().copied());
        assert_eq!(slabs.classes[0].pooled.len(), 2);
        assert_eq!(usage(&slabs), (1, 2), "the third went back to its slab");
        let mut out = Vec::new();
        slabs.take_pooled(size, 8, &mut out);
        assert_eq!(out.len(), 2);
        slabs.set_pool_limit(0);
        let _ = slabs.give(out);
        assert_eq!(usage(&slabs), (1, 0));
    }

    /// A batch hands out distinct stacks, all counted live; a slot given back to a full slab
    /// below the others is found again by the next take (the scan starts no higher than it).
    #[test]
    fn batches_are_distinct_and_freed_slots_below_are_found_again() {
        let size = 2 * sys::page_size();
        let mut slabs = empty_slabs(0);
        let mut stacks = Vec::new();
        let first = slabs.take_batch(size, 99, &mut stacks).unwrap();
        stacks.push(first);
        assert_eq!(stacks.len(), 100);
        let mut tops: Vec<usize> = stacks.iter().map(|s| s.top).collect();
        tops.sort_unstable();
        tops.dedup();
        assert_eq!(tops.len(), 100, "every stack of the batch is its own");
        // 64 + 128 slots: the first slab is full, the second holds 36.
        assert_eq!(usage(&slabs), (2, 100));
        let from_first = *stacks.iter().find(|s| s.slab == 0).unwrap();
        stacks.retain(|s| s.top != from_first.top);
        let _ = slabs.give([from_first]);
        let again = slabs.take(size).unwrap();
        assert_eq!(
            again.top, from_first.top,
            "the freed slot of the first slab"
        );
        stacks.push(again);
        let _ = slabs.give(stacks);
        assert_eq!(usage(&slabs), (2, 0));
    }
}
