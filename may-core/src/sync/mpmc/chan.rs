//! `Chan<T>`: one channel of any capacity (unbounded, bounded, rendezvous) behind one lock,
//! with the blocking operations built on the wait primitive.
//!
//! Every check-then-register happens under the channel lock, so a wake-up cannot be lost; the
//! waiter slot's compare-and-swap decides which peer completes a wait, and a message only
//! changes hands together with a won slot (see `state.rs`). Waiters are unparked after the lock
//! is released.

use std::cell::Cell;
use std::collections::VecDeque;
use std::mem::ManuallyDrop;
use std::sync::atomic::AtomicUsize;
use std::time::Instant;

use super::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use super::state::{current_key, RecvEntry, SendEntry, Side, State, Take, Withdrawn, PLAIN_OP};
use crate::spin_lock::{SpinGuard, SpinLock};
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, TimedOut, WaiterRef};

/// One channel, shared by all its senders and receivers.
pub(crate) struct Chan<T> {
    state: SpinLock<State<T>>,
    pub(super) sender_count: AtomicUsize,
    pub(super) receiver_count: AtomicUsize,
    pub(super) cap: Option<usize>,
}

fn unpark(w: Option<WaiterRef>) {
    if let Some(w) = w {
        w.unpark_owned();
    }
}

/// Drops `msgs` front to back. A destructor that panics ends it there: the panic propagates and
/// the messages after it are leaked, as in crossbeam-channel. Dropping them would run more user
/// destructors during the unwind, and a second panic there aborts the process.
fn drop_in_order<T>(msgs: VecDeque<T>) {
    let mut rest = ManuallyDrop::new(msgs.into_iter());
    for msg in &mut *rest {
        drop(msg);
    }
    drop(ManuallyDrop::into_inner(rest));
}

impl<T> Chan<T> {
    pub(super) fn new(cap: Option<usize>) -> Chan<T> {
        Chan {
            state: SpinLock::new(State::new(cap)),
            sender_count: AtomicUsize::new(1),
            receiver_count: AtomicUsize::new(1),
            cap,
        }
    }

    /// Locks the state. No user code runs under this lock: messages are dropped after it is
    /// released, and nobody parks while holding it.
    pub(super) fn lock(&self) -> SpinGuard<'_, State<T>> {
        self.state.lock()
    }

    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let mut st = self.lock();
        if st.receivers_gone {
            return Err(TrySendError::Disconnected(msg));
        }
        match st.put(msg, None) {
            Ok(w) => {
                drop(st);
                unpark(w);
                Ok(())
            }
            Err(msg) => Err(TrySendError::Full(msg)),
        }
    }

    pub(crate) fn send(
        &self,
        msg: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        // The message while it is in our hands (not listed in our entry).
        let held = Cell::new(Some(msg));
        let sent = wait::wait(
            WaitReason::ChannelSend,
            deadline,
            OnCancel::Unwind,
            |me| {
                let Some(msg) = held.take() else {
                    unreachable!("the message is back in our hands before every registration");
                };
                let mut st = self.lock();
                if st.receivers_gone {
                    return Registered::Done(Err(SendTimeoutError::Disconnected(msg)));
                }
                match st.put(msg, None) {
                    Ok(w) => {
                        drop(st);
                        unpark(w);
                        Registered::Done(Ok(()))
                    }
                    Err(msg) => {
                        st.senders.push_back(SendEntry {
                            waiter: me.registration(),
                            op: PLAIN_OP,
                            msg: Some(msg),
                        });
                        st.notify_watchers();
                        Registered::Waiting
                    }
                }
            },
            |me, sel| {
                if sel == Selected::Operation(PLAIN_OP) {
                    // A receiver took the message (or moved it into the buffer) and removed our
                    // entry when it selected us.
                    return Some(Ok(()));
                }
                // Timed out, cancelled (the message drops as the call unwinds), disconnected or
                // woken spuriously (try again): take the message back.
                match self.lock().remove_sender(me, PLAIN_OP) {
                    Withdrawn::Entry(Some(msg)) => held.set(Some(msg)),
                    _ => unreachable!("an unselected plain send keeps its entry and message"),
                }
                None
            },
        );
        match sent {
            Ok(result) => result,
            Err(TimedOut) => match held.take() {
                Some(msg) => Err(SendTimeoutError::Timeout(msg)),
                None => unreachable!("a timed-out send has its message back"),
            },
        }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut st = self.lock();
        match st.take(None) {
            Take::Msg(msg, w) => {
                drop(st);
                unpark(w);
                Ok(msg)
            }
            Take::Reserved(w) => {
                drop(st);
                w.unpark_owned();
                self.claim().ok_or(TryRecvError::Empty)
            }
            Take::Empty if st.senders_gone => Err(TryRecvError::Disconnected),
            Take::Empty => Err(TryRecvError::Empty),
        }
    }

    // Inlined into the receiver's methods: fewer frames to return through after the switch
    // (see `wait::wait`).
    #[inline(always)]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        // Where a sender puts the message when it completes our wait (see `RecvEntry::slot`).
        // Only accessed through `slot` from here on.
        let mut slot_storage: Option<T> = None;
        let slot: *mut Option<T> = &mut slot_storage;
        let received = wait::wait(
            WaitReason::ChannelRecv,
            deadline,
            OnCancel::Unwind,
            |me| loop {
                let mut st = self.lock();
                match st.take(None) {
                    Take::Msg(msg, w) => {
                        drop(st);
                        unpark(w);
                        return Registered::Done(Ok(msg));
                    }
                    Take::Reserved(w) => {
                        drop(st);
                        w.unpark_owned();
                        match self.claim() {
                            Some(msg) => return Registered::Done(Ok(msg)),
                            None => continue,
                        }
                    }
                    Take::Empty if st.senders_gone => {
                        return Registered::Done(Err(RecvTimeoutError::Disconnected))
                    }
                    Take::Empty => {}
                }
                st.receivers.push_back(RecvEntry {
                    waiter: me.registration(),
                    op: PLAIN_OP,
                    slot,
                });
                st.notify_watchers();
                return Registered::Waiting;
            },
            |me, sel| {
                if sel == Selected::Operation(PLAIN_OP) {
                    // A sender removed our entry when it selected us; it wrote the message
                    // before its compare-and-swap, which our wait observed.
                    // SAFETY: `slot` points to `slot_storage`, alive for the whole call; the
                    // entry is gone, so no peer touches it any more.
                    if let Some(msg) = unsafe { (*slot).take() } {
                        return Some(Ok(msg));
                    }
                    // Paired with a select's send on a rendezvous channel: the message is owed
                    // (`None`: the owing sender gave up, try again).
                    return self.claim().map(Ok);
                }
                // Not selected by a sender: our entry is still listed; after removing it
                // nobody touches the slot (a cancellation unwinds after this).
                self.lock().remove_receiver(me, PLAIN_OP);
                None
            },
        );
        match received {
            Ok(result) => result,
            Err(TimedOut) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Takes the message delivered to the caller, a reserved receiver; waits (token park, not
    /// cancellable: a selected sender is about to deliver) while it is owed. `None`: the owing
    /// sender gave up, retry the receive.
    pub(super) fn claim(&self) -> Option<T> {
        let me = current_key();
        loop {
            if let Some(got) = self.lock().claim(me) {
                return got.ok();
            }
            crate::wait::park_current();
        }
    }

    /// Called when the last sender is dropped.
    pub(super) fn disconnect_senders(&self) {
        let woken = {
            let mut st = self.lock();
            st.senders_gone = true;
            st.wake_side(Side::Receivers)
        };
        woken.into_iter().for_each(WaiterRef::unpark_owned);
    }

    /// Called when the last receiver is dropped: wakes blocked senders (they get their message
    /// back) and drops the buffered messages now, like crossbeam-channel.
    pub(super) fn disconnect_receivers(&self) {
        let (woken, dropped) = {
            let mut st = self.lock();
            st.receivers_gone = true;
            let woken = st.wake_side(Side::Senders);
            let dropped = std::mem::take(&mut st.buf);
            (woken, dropped)
        };
        woken.into_iter().for_each(WaiterRef::unpark_owned);
        drop_in_order(dropped);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().free_msgs()
    }

    pub(crate) fn is_disconnected(&self) -> bool {
        let st = self.lock();
        st.senders_gone || st.receivers_gone
    }
}
