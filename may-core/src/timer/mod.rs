//! The per-worker timers: an indexed binary min-heap of deadlines per thread.
//!
//! A task arms its timers on the thread it runs on, which is its home worker (a started task
//! never migrates), so each heap is touched by one thread only and needs no lock. The worker
//! fires expired timers and sleeps no longer than its next deadline ([`fire_expired`],
//! [`next_deadline`]). Insert and remove are O(log n) and allocation-free once the heap has
//! grown to its working size, and a removed timer leaves nothing behind (a long `recv_timeout`
//! cancelled early costs nothing later). A timer's action is to unpark its task; the woken code
//! checks the clock itself.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use crate::task::Task;

thread_local! {
    static TIMERS: RefCell<TimerHeap> = RefCell::new(TimerHeap::default());
}

/// Runs `f` with this thread's timer heap.
// Never inlined: tasks call this, and may not keep a thread-local's address across a switch
// (see DESIGN.md on thread-locals).
#[inline(never)]
fn with_timers<R>(f: impl FnOnce(&mut TimerHeap) -> R) -> R {
    TIMERS.with(|timers| f(&mut timers.borrow_mut()))
}

/// Arms a timer that unparks `task` at `deadline`, on the calling thread: the task's home
/// worker.
pub(crate) fn arm(deadline: Instant, task: Arc<Task>) -> TimerKey {
    with_timers(|timers| timers.insert(deadline, task))
}

/// Disarms a timer armed by [`arm`] on this thread; nothing happens if it already fired.
pub(crate) fn disarm(key: TimerKey) {
    // The task's reference is dropped after the heap is released (its drop may free the task).
    let removed = with_timers(|timers| timers.remove(key));
    drop(removed);
}

/// Unparks the tasks whose timers on this thread expired; returns how many did.
pub(crate) fn fire_expired() -> usize {
    if with_timers(|timers| timers.heap.is_empty()) {
        return 0;
    }
    let now = Instant::now();
    let mut fired = 0;
    // One at a time, with the heap released while unparking.
    while let Some(task) = with_timers(|timers| timers.pop_expired(now)) {
        task.unpark();
        fired += 1;
    }
    fired
}

/// How many timers are armed on this thread.
pub(crate) fn armed() -> usize {
    with_timers(|timers| timers.heap.len())
}

/// The earliest deadline armed on this thread.
pub(crate) fn next_deadline() -> Option<Instant> {
    with_timers(|timers| timers.next_deadline())
}

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
    task: Arc<Task>,
}

/// The timer queue of one worker.
#[derive(Default)]
struct TimerHeap {
    heap: Vec<Entry>,
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl TimerHeap {
    /// Schedules `task` to be unparked at `deadline`.
    fn insert(&mut self, deadline: Instant, task: Arc<Task>) -> TimerKey {
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
        self.heap.push(Entry {
            deadline,
            slot,
            task,
        });
        self.slots[slot as usize].position = position;
        self.sift_up(position);
        TimerKey {
            slot,
            generation: self.slots[slot as usize].generation,
        }
    }

    /// Removes a timer, returning its task; nothing if it already fired or was removed.
    fn remove(&mut self, key: TimerKey) -> Option<Arc<Task>> {
        let slot = self.slots.get(key.slot as usize)?;
        if slot.generation != key.generation || slot.position == FREE {
            return None;
        }
        let position = slot.position;
        Some(self.remove_at(position))
    }

    /// The earliest deadline, if any timer is pending.
    fn next_deadline(&self) -> Option<Instant> {
        self.heap.first().map(|e| e.deadline)
    }

    /// Removes and returns the task of the earliest timer if its deadline is at or before `now`.
    fn pop_expired(&mut self, now: Instant) -> Option<Arc<Task>> {
        if self.heap.first()?.deadline > now {
            return None;
        }
        Some(self.remove_at(0))
    }

    /// Number of pending timers.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.heap.len()
    }

    fn remove_at(&mut self, position: usize) -> Arc<Task> {
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
        entry.task
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

    struct NeverStarted;

    impl crate::task::Start for NeverStarted {
        fn run(&self) {}
        fn abandon(&self, _why: std::io::Error) {}
    }

    fn co(id: u64) -> Arc<Task> {
        Task::new(id, None, 4096, false, Arc::new(NeverStarted))
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
                assert!(heap.remove(*key).is_some());
                assert!(heap.remove(*key).is_none(), "twice is harmless");
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
        assert!(heap.remove(first).is_none());
        assert_eq!(heap.len(), 1);
        assert_eq!(heap.next_deadline(), Some(now));
    }
}
