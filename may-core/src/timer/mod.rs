//! The per-worker timer queue: an indexed binary min-heap of deadlines.
//!
//! Each worker owns one; only that worker thread touches it, so there is no locking. Insert and
//! remove are O(log n) and allocation-free once the heap has grown to its working size, and a
//! removed timer leaves nothing behind (a long `recv_timeout` cancelled early costs nothing
//! later). A timer's action is to unpark its coroutine; the woken code checks the clock itself.

use std::sync::Arc;
use std::time::Instant;

use crate::coroutine::CoInner;

/// Identifies an inserted timer so that it can be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    generation: u32,
}

struct Slot {
    generation: u32,
    /// Position in `heap`, or `FREE`.
    position: usize,
}

const FREE: usize = usize::MAX;

struct Entry {
    deadline: Instant,
    slot: u32,
    co: Arc<CoInner>,
}

/// The timer queue of one worker.
#[derive(Default)]
pub(crate) struct TimerHeap {
    heap: Vec<Entry>,
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl TimerHeap {
    /// Schedules `co` to be unparked at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, co: Arc<CoInner>) -> TimerKey {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    position: FREE,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let position = self.heap.len();
        self.heap.push(Entry { deadline, slot, co });
        self.slots[slot as usize].position = position;
        self.sift_up(position);
        TimerKey {
            slot,
            generation: self.slots[slot as usize].generation,
        }
    }

    /// Removes a timer; does nothing if it already fired or was removed.
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let Some(slot) = self.slots.get(key.slot as usize) else {
            return;
        };
        if slot.generation != key.generation || slot.position == FREE {
            return;
        }
        let position = slot.position;
        drop(self.remove_at(position));
    }

    /// The earliest deadline, if any timer is pending.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.first().map(|e| e.deadline)
    }

    /// Removes and returns the coroutine of the earliest timer if its deadline is at or before
    /// `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Arc<CoInner>> {
        if self.heap.first()?.deadline > now {
            return None;
        }
        Some(self.remove_at(0))
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    fn remove_at(&mut self, position: usize) -> Arc<CoInner> {
        let last = self.heap.len() - 1;
        self.heap.swap(position, last);
        let entry = self.heap.pop().expect("remove_at on a non-empty heap");
        let slot = &mut self.slots[entry.slot as usize];
        slot.position = FREE;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(entry.slot);
        if position < self.heap.len() {
            self.set_position(position);
            self.sift_down(position);
            self.sift_up(position);
        }
        entry.co
    }

    fn set_position(&mut self, position: usize) {
        let slot = self.heap[position].slot as usize;
        self.slots[slot].position = position;
    }

    fn sift_up(&mut self, mut position: usize) {
        while position > 0 {
            let parent = (position - 1) / 2;
            if self.heap[parent].deadline <= self.heap[position].deadline {
                break;
            }
            self.heap.swap(parent, position);
            self.set_position(position);
            self.set_position(parent);
            position = parent;
        }
    }

    fn sift_down(&mut self, mut position: usize) {
        loop {
            let left = 2 * position + 1;
            let right = left + 1;
            let mut smallest = position;
            if left < self.heap.len() && self.heap[left].deadline < self.heap[smallest].deadline {
                smallest = left;
            }
            if right < self.heap.len() && self.heap[right].deadline < self.heap[smallest].deadline {
                smallest = right;
            }
            if smallest == position {
                break;
            }
            self.heap.swap(smallest, position);
            self.set_position(position);
            self.set_position(smallest);
            position = smallest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn co(id: u64) -> Arc<CoInner> {
        Arc::new(CoInner::new(id, None, 4096, false, (0, 0)))
    }

    #[test]
    fn pops_in_deadline_order_and_skips_removed() {
        let mut heap = TimerHeap::default();
        let base = Instant::now();
        let mut keys = Vec::new();
        // Deadlines in a scrambled order: 7, 3, 9, 1, 5, ...
        for i in 0..50u64 {
            let offset = (i * 37) % 50;
            keys.push((
                offset,
                heap.insert(base + Duration::from_millis(offset), co(offset)),
            ));
        }
        // Remove every timer with an offset divisible by 3.
        for (offset, key) in &keys {
            if offset % 3 == 0 {
                heap.remove(*key);
                heap.remove(*key); // twice is harmless
            }
        }
        let mut popped = Vec::new();
        while let Some(c) = heap.pop_expired(base + Duration::from_secs(1)) {
            popped.push(c.id);
        }
        let expected: Vec<u64> = (0..50).filter(|o| o % 3 != 0).collect();
        assert_eq!(popped, expected);
        assert_eq!(heap.len(), 0);
    }

    #[test]
    fn stale_key_does_not_remove_a_reused_slot() {
        let mut heap = TimerHeap::default();
        let now = Instant::now();
        let first = heap.insert(now, co(1));
        assert_eq!(heap.pop_expired(now).map(|c| c.id), Some(1));
        let _second = heap.insert(now, co(2));
        heap.remove(first);
        assert_eq!(heap.len(), 1);
        assert_eq!(heap.next_deadline(), Some(now));
    }
}
