//! Each worker's registry of the tasks it started and that have not finished, for the runtime's
//! dump. A task enters its home worker's registry when it first runs and leaves it when it
//! finishes, both on that worker, so the lock is only ever contended by a dump walking it: no
//! global list is touched on spawn.

use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::spin_lock::SpinLock;
use crate::task::Task;

/// A registered task.
///
/// # Invariant
/// Points to a task that is alive: a task is removed (by its home worker, when it finishes)
/// before the worker drops its own reference, and reads happen under the registry's lock.
#[derive(Clone, Copy)]
struct Entry(NonNull<Task>);

// SAFETY: the pointee is `Sync` (`Task` is), and the invariant keeps it alive while listed.
unsafe impl Send for Entry {}

#[derive(Default)]
struct Slots {
    tasks: Vec<Option<Entry>>,
    free: Vec<u32>,
}

/// See the module docs.
#[derive(Default)]
pub(crate) struct Registry {
    slots: SpinLock<Slots>,
}

impl Registry {
    /// Lists `task`, started on this registry's worker (called by that worker).
    pub(crate) fn insert(&self, task: &Arc<Task>) {
        let entry = Some(Entry(NonNull::from(&**task)));
        let mut slots = self.slots.lock();
        let index = match slots.free.pop() {
            Some(index) => {
                slots.tasks[index as usize] = entry;
                index
            }
            None => {
                slots.tasks.push(entry);
                (slots.tasks.len() - 1) as u32
            }
        };
        task.registry_slot.store(index, Ordering::Relaxed);
    }

    /// Removes `task`, which finished (called by its home worker, before it drops its own
    /// reference to the task).
    pub(crate) fn remove(&self, task: &Task) {
        let index = task.registry_slot.load(Ordering::Relaxed);
        let mut slots = self.slots.lock();
        if let Some(slot) = slots.tasks.get_mut(index as usize) {
            *slot = None;
            slots.free.push(index);
        }
    }

    /// Runs `f` on every listed task, under the lock (the worker cannot start or finish a task
    /// meanwhile, so keep `f` short).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Task)) {
        let slots = self.slots.lock();
        for entry in slots.tasks.iter().flatten() {
            // SAFETY: listed, hence alive (see `Entry`), and we hold the lock.
            f(unsafe { entry.0.as_ref() });
        }
    }
}
