//! The state of one channel, guarded by the channel's lock, and the moves that pair senders
//! with receivers.
//!
//! # Invariants (all under the lock)
//! - `buf` holds the messages free for any receiver, in FIFO order.
//! - A *reserved receiver* is one whose wait a sender won (its entry is gone and its slot names
//!   the operation), or a select that reserved a receive. Its message goes to `delivered`,
//!   keyed by its waiter, so that each receiver gets exactly the message meant for it (this is
//!   what keeps per-producer order for every consumer). A message not delivered yet is *owed*:
//!   `pairs` remembers which select sender owes which receiver; a sender that gives up
//!   delivers `None` and the receiver retries.
//! - `send_reserved` counts free slots of a bounded channel promised to selected senders.
//! - An entry is only removed from `senders`/`receivers` by its owner (unregistering) or by a
//!   peer that won the entry's waiter slot with `Selected::Operation(entry.op)`. So the owner
//!   holds a reservation exactly when its entry is gone. Entries whose waiter was completed by
//!   someone else stay until their owner removes them (a blocked sender's message must go back
//!   to it).

use std::collections::VecDeque;

use crate::wait::{Selected, Waiter, WaiterRef};

/// Operation index of the plain (non-select) blocking calls; select positions stay below it.
/// Plain waiters are woken with `Selected::Disconnected` on disconnection, so for them
/// `Operation(PLAIN_OP)` always means "a peer completed the operation".
pub(super) const PLAIN_OP: usize = usize::MAX >> 2;

/// Buffer memory an unbounded channel keeps once drained (see `State::shrink_drained`).
const KEEP_BYTES: usize = 32 * 1024;

/// A blocked receiver (a plain `recv` or one operation of a select).
pub(super) struct RecvEntry<T> {
    pub(super) waiter: WaiterRef,
    pub(super) op: usize,
    /// A plain receiver's message slot on its stack (null for selects, which are delivered
    /// through `State::delivered`).
    ///
    /// # Invariant
    /// Valid while the entry is listed: its owner removes the entry under the channel lock, or
    /// is selected with `Operation(op)` by the peer that removes it, before the slot goes away.
    /// A peer writes it only under the lock and only before winning the owner's slot (taking
    /// the message back if it loses); the owner reads it only after that selection.
    pub(super) slot: *mut Option<T>,
}

// SAFETY: the raw slot pointer is only dereferenced under the channel lock by a peer (see the
// invariant above), which moves a `T` to the owner's thread: sound when `T: Send`.
unsafe impl<T: Send> Send for RecvEntry<T> {}

/// A blocked sender: a plain `send` carries its message, a select's send operation does not.
pub(super) struct SendEntry<T> {
    pub(super) waiter: WaiterRef,
    pub(super) op: usize,
    pub(super) msg: Option<T>,
}

/// One side of a channel, for waking all its blocked operations at a disconnection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Senders,
    Receivers,
}

/// What withdrawing a sender's entry found.
pub(super) enum Withdrawn<T> {
    /// The entry was gone: a peer took it when it selected the sender.
    Gone,
    /// The entry was still listed; a plain send's message comes back with it (a select's send
    /// entry carries none).
    Entry(Option<T>),
}

/// What a receiver got from [`State::take`].
pub(super) enum Take<T> {
    /// A message, and a sender to unpark after the lock is released.
    Msg(T, Option<WaiterRef>),
    /// The caller became a reserved receiver (of a select's send, on a rendezvous channel): it
    /// must wait for the message with [`State::claim`]. Holds the sender to unpark.
    Reserved(WaiterRef),
    /// Nothing to take.
    Empty,
}

/// Channel state; see the module docs.
pub(super) struct State<T> {
    pub(super) buf: VecDeque<T>,
    /// `None`: unbounded; `Some(0)`: rendezvous.
    pub(super) cap: Option<usize>,
    /// Messages handed to reserved receivers (`None`: the owing sender gave up).
    /// Keyed by [`key`] of the receiver's waiter.
    pub(super) delivered: Vec<(usize, Option<T>)>,
    /// Owed messages: (selected sender, reserved receiver).
    pub(super) pairs: Vec<(WaiterRef, WaiterRef)>,
    pub(super) send_reserved: usize,
    pub(super) senders: VecDeque<SendEntry<T>>,
    pub(super) receivers: VecDeque<RecvEntry<T>>,
    pub(super) senders_gone: bool,
    pub(super) receivers_gone: bool,
    /// `Select::ready` waiters: woken on every change, never paired with.
    pub(super) watchers: Vec<(WaiterRef, usize)>,
}

/// The identity of a waiter, for `delivered`.
pub(super) fn key(w: &WaiterRef) -> usize {
    w.waiter() as *const Waiter as usize
}

/// The identity of the caller's waiter, without touching reference counts in a coroutine.
pub(super) fn current_key() -> usize {
    let co_key =
        crate::task::with_current(|task| task.map(|task| &task.slot as *const Waiter as usize));
    co_key.unwrap_or_else(|| key(&WaiterRef::current()))
}

/// Removes the entry at `index`. The first entry is the common case (waiters are served in
/// order) and `pop_front` costs a fraction of the general `remove`, which works out which side
/// of the ring to shift: 118 -> about 20 instructions per channel round trip.
#[inline]
fn remove_at<E>(entries: &mut VecDeque<E>, index: usize) -> Option<E> {
    if index == 0 {
        entries.pop_front()
    } else {
        entries.remove(index)
    }
}

/// Whether `w` is still waiting (not completed by anyone) and is not `me`.
fn open(w: &WaiterRef, me: Option<&WaiterRef>) -> bool {
    w.waiter().selected() == Selected::Waiting && !me.is_some_and(|m| m.same(w))
}

impl<T> State<T> {
    pub(super) fn new(cap: Option<usize>) -> State<T> {
        State {
            buf: VecDeque::with_capacity(cap.unwrap_or(0).min(1024)),
            cap,
            delivered: Vec::new(),
            pairs: Vec::new(),
            send_reserved: 0,
            senders: VecDeque::new(),
            receivers: VecDeque::new(),
            senders_gone: false,
            receivers_gone: false,
            watchers: Vec::new(),
        }
    }

    /// Messages a new receiver could take from the buffer.
    pub(super) fn free_msgs(&self) -> usize {
        self.buf.len()
    }

    /// Free capacity for a new sender (`usize::MAX` when unbounded).
    pub(super) fn free_slots(&self) -> usize {
        match self.cap {
            None => usize::MAX,
            Some(cap) => cap.saturating_sub(self.free_msgs() + self.send_reserved),
        }
    }

    /// Wins the first open receiver entry (not `me`) and removes it: that receiver becomes a
    /// reserved receiver. The caller then delivers a message to it (now or later).
    pub(super) fn win_receiver(&mut self, me: Option<&WaiterRef>) -> Option<WaiterRef> {
        let pos = self.receivers.iter().position(|e| {
            open(&e.waiter, me)
                && e.waiter
                    .waiter()
                    .try_select(Selected::Operation(e.op))
                    .is_ok()
        })?;
        remove_at(&mut self.receivers, pos).map(|e| e.waiter)
    }

    /// Wakes every `ready` watcher (they re-check); called after each change of the state.
    #[inline]
    pub(super) fn notify_watchers(&mut self) {
        if !self.watchers.is_empty() {
            self.wake_watchers();
        }
    }

    #[cold]
    fn wake_watchers(&mut self) {
        for (w, op) in self.watchers.drain(..) {
            if w.waiter().try_select(Selected::Operation(op)).is_ok() {
                w.unpark_owned();
            }
        }
    }

    /// Whether a receive could proceed now.
    pub(super) fn recv_ready(&self) -> bool {
        self.free_msgs() > 0 || self.senders_gone || self.has_open_sender(None)
    }

    /// Whether a send could proceed now.
    pub(super) fn send_ready(&self) -> bool {
        self.receivers_gone || self.free_slots() > 0 || self.has_open_receiver(None)
    }

    /// Whether a receiver could be won now (a hint used while registering a select).
    pub(super) fn has_open_receiver(&self, me: Option<&WaiterRef>) -> bool {
        self.receivers.iter().any(|e| open(&e.waiter, me))
    }

    /// Whether a sender entry could pair with a receiver now.
    pub(super) fn has_open_sender(&self, me: Option<&WaiterRef>) -> bool {
        let rendezvous = self.cap == Some(0);
        self.senders
            .iter()
            .any(|e| open(&e.waiter, me) && (e.msg.is_some() || rendezvous))
    }

    /// Hands `msg` to the first open receiver (not `me`): into a plain receiver's slot, before
    /// winning its waiter (so the message is there when it wakes), or into `delivered` for a
    /// select. Returns the receiver to unpark, or the message back when none is waiting.
    pub(super) fn give_to_receiver(
        &mut self,
        msg: T,
        me: Option<&WaiterRef>,
    ) -> Result<WaiterRef, T> {
        // `Some` while the message is in our hands, `None` while it sits in a receiver's slot.
        let mut msg = Some(msg);
        let mut i = 0;
        while i < self.receivers.len() {
            let entry = &self.receivers[i];
            if !open(&entry.waiter, me) {
                i += 1;
                continue;
            }
            let slot = entry.slot;
            if !slot.is_null() {
                // SAFETY: the entry is listed and we hold the lock, so the slot is valid and
                // its owner does not read it before being selected (see `RecvEntry::slot`).
                unsafe { *slot = msg.take() };
            }
            let won = entry
                .waiter
                .waiter()
                .try_select(Selected::Operation(entry.op))
                .is_ok();
            if won {
                let entry = remove_at(&mut self.receivers, i).expect("index checked above");
                if let Some(next) = self.receivers.get(i) {
                    // The next send most likely wins this one: start loading its cold lines.
                    next.waiter.prefetch();
                    crate::sys::prefetch(next.slot as usize);
                }
                if slot.is_null() {
                    self.delivered.push((key(&entry.waiter), msg.take()));
                }
                return Ok(entry.waiter);
            }
            if !slot.is_null() {
                // SAFETY: as above; the owner was not selected by us, so it will not read it.
                msg = unsafe { (*slot).take() };
            }
            i += 1;
        }
        Err(msg.expect("the message is back in our hands"))
    }

    /// Sends `msg` without blocking: to a waiting receiver, else into free capacity. Returns the
    /// receiver to unpark, or the message back when the channel is full.
    pub(super) fn put(&mut self, msg: T, me: Option<&WaiterRef>) -> Result<Option<WaiterRef>, T> {
        let msg = match self.give_to_receiver(msg, me) {
            Ok(w) => {
                self.notify_watchers();
                return Ok(Some(w));
            }
            Err(msg) => msg,
        };
        if self.free_slots() > 0 {
            self.buf.push_back(msg);
            self.notify_watchers();
            return Ok(None);
        }
        Err(msg)
    }

    /// Receives without blocking: a free buffered message (then a blocked sender may move into
    /// the freed slot), or a blocked sender's message, or a rendezvous with a select's send.
    pub(super) fn take(&mut self, me: Option<&WaiterRef>) -> Take<T> {
        if let Some(msg) = self.buf.pop_front() {
            if self.buf.is_empty() {
                self.shrink_drained();
            }
            let unpark = self.admit_sender(me);
            self.notify_watchers();
            return Take::Msg(msg, unpark);
        }
        if self.senders.is_empty() {
            return Take::Empty;
        }
        let rendezvous = self.cap == Some(0);
        let pos = self.senders.iter().position(|e| {
            open(&e.waiter, me)
                && (e.msg.is_some() || rendezvous)
                && e.waiter
                    .waiter()
                    .try_select(Selected::Operation(e.op))
                    .is_ok()
        });
        let Some(entry) = pos.and_then(|p| remove_at(&mut self.senders, p)) else {
            return Take::Empty;
        };
        self.notify_watchers();
        match entry.msg {
            Some(msg) => Take::Msg(msg, Some(entry.waiter)),
            None => {
                // A select's send on a rendezvous channel: it owes us the message.
                self.pairs
                    .push((entry.waiter.clone(), WaiterRef::current()));
                Take::Reserved(entry.waiter)
            }
        }
    }

    /// An unbounded channel whose backlog grew its buffer past [`KEEP_BYTES`] gives the memory
    /// back once the buffer drains, so that a burst does not pin its peak for the channel's
    /// life (Go's `test/chan/select2.go` checks that a second burst allocates nothing net).
    /// Bounded buffers keep their size: it is limited by the capacity.
    #[inline]
    fn shrink_drained(&mut self) {
        // Zero-sized messages take no memory (their capacity is `usize::MAX`).
        let keep = KEEP_BYTES.checked_div(std::mem::size_of::<T>());
        if let Some(keep) = keep.filter(|&keep| self.cap.is_none() && self.buf.capacity() > keep) {
            self.buf.shrink_to(keep);
        }
    }

    /// After a slot was freed: moves a blocked sender's message in, or reserves the slot for a
    /// select's send. Returns the sender to unpark.
    pub(super) fn admit_sender(&mut self, me: Option<&WaiterRef>) -> Option<WaiterRef> {
        if self.senders.is_empty() || self.cap == Some(0) || self.free_slots() == 0 {
            return None;
        }
        let pos = self.senders.iter().position(|e| {
            open(&e.waiter, me)
                && e.waiter
                    .waiter()
                    .try_select(Selected::Operation(e.op))
                    .is_ok()
        })?;
        let entry = remove_at(&mut self.senders, pos)?;
        match entry.msg {
            Some(msg) => match self.put(msg, me) {
                // Not reachable today (a sender hands its message to a waiting receiver before
                // it looks at capacity, so no receiver waits while a sender is blocked with a
                // message), but if `put` did complete a receiver's wait, wake it here rather
                // than lose the wake-up (only the sender is returned to the caller).
                Ok(Some(receiver)) => receiver.unpark_owned(),
                Ok(None) => {}
                // Cannot happen (a slot is free); keep the message anyway.
                Err(msg) => self.buf.push_back(msg),
            },
            None => self.send_reserved += 1,
        }
        Some(entry.waiter)
    }

    /// The reserved receiver `me` takes its message: `Some(Ok(msg))`, `Some(Err(()))` when the
    /// sender that owed it gave up (retry), or `None` when it has not arrived yet.
    pub(super) fn claim(&mut self, me: usize) -> Option<Result<T, ()>> {
        let pos = self.delivered.iter().position(|(w, _)| *w == me)?;
        let (_, msg) = self.delivered.swap_remove(pos);
        Some(msg.ok_or(()))
    }

    /// The receiver the selected sender `me` owes a message to (removes the pairing).
    pub(super) fn take_pair(&mut self, me: &WaiterRef) -> Option<WaiterRef> {
        let pos = self.pairs.iter().position(|(s, _)| s.same(me))?;
        Some(self.pairs.swap_remove(pos).1)
    }

    /// Removes `me`'s receiver entry for `op`; true if it was still there.
    pub(super) fn remove_receiver(&mut self, me: &WaiterRef, op: usize) -> bool {
        match self
            .receivers
            .iter()
            .position(|e| e.op == op && e.waiter.same(me))
        {
            Some(pos) => {
                remove_at(&mut self.receivers, pos);
                true
            }
            None => false,
        }
    }

    /// Removes `me`'s sender entry for `op` (see [`Withdrawn`]).
    pub(super) fn remove_sender(&mut self, me: &WaiterRef, op: usize) -> Withdrawn<T> {
        let pos = self
            .senders
            .iter()
            .position(|e| e.op == op && e.waiter.same(me));
        match pos.and_then(|pos| remove_at(&mut self.senders, pos)) {
            Some(entry) => Withdrawn::Entry(entry.msg),
            None => Withdrawn::Gone,
        }
    }

    /// Completes every open entry of one side with its own operation (they retry and see the
    /// disconnection); returns the waiters to unpark.
    pub(super) fn wake_side(&mut self, side: Side) -> Vec<WaiterRef> {
        let mut woken = Vec::new();
        let mut wake = |w: &WaiterRef, op: usize| {
            let sel = if op == PLAIN_OP {
                Selected::Disconnected
            } else {
                Selected::Operation(op)
            };
            if w.waiter().try_select(sel).is_ok() {
                woken.push(w.clone());
            }
        };
        match side {
            Side::Senders => self.senders.iter().for_each(|e| wake(&e.waiter, e.op)),
            Side::Receivers => self.receivers.iter().for_each(|e| wake(&e.waiter, e.op)),
        }
        self.notify_watchers();
        woken
    }
}
