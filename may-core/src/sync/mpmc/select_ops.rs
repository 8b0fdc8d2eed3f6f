//! The select side of a channel: reserving, registering, completing and releasing operations
//! (see `select_handle.rs` for the protocol and `state.rs` for the invariants).

use std::time::Instant;

use super::chan::Chan;
use super::error::{RecvError, SendError};
use super::select_handle::{MsgBuf, Registration, SelectHandle, Token};
use super::state::{current_key, key, RecvEntry, SendEntry, Take, Withdrawn};
use super::{Receiver, Sender};
use crate::wait::WaiterRef;

fn unpark(w: Option<WaiterRef>) {
    if let Some(w) = w {
        w.unpark();
    }
}

impl<T> Chan<T> {
    pub(super) fn reserve_recv(&self, buf: &mut MsgBuf) -> Option<Token> {
        let mut st = self.lock();
        let (token, w) = match st.take(None) {
            Take::Msg(msg, w) => match buf.put(msg) {
                Ok(()) => (Token::Inline, w),
                Err(msg) => {
                    // Too big to carry: keep it in our delivery slot.
                    st.delivered.push((current_key(), Some(msg)));
                    (Token::Recv, w)
                }
            },
            Take::Reserved(w) => (Token::Recv, Some(w)),
            Take::Empty if st.senders_gone => (Token::Closed, None),
            Take::Empty => return None,
        };
        drop(st);
        unpark(w);
        Some(token)
    }

    pub(super) fn reserve_send(&self) -> Option<Token> {
        let mut st = self.lock();
        if st.receivers_gone {
            return Some(Token::Closed);
        }
        if st.free_slots() > 0 {
            st.send_reserved += 1;
            return Some(Token::Send);
        }
        let w = st.win_receiver(None)?;
        st.pairs.push((WaiterRef::current(), w.clone()));
        drop(st);
        w.unpark();
        Some(Token::Commit)
    }

    pub(super) fn register_recv(&self, me: &WaiterRef, op: usize) -> Registration {
        let mut st = self.lock();
        if st.free_msgs() > 0 || st.senders_gone || st.has_open_sender(Some(me)) {
            return Registration::Ready;
        }
        st.receivers.push_back(RecvEntry {
            waiter: me.clone(),
            op,
            slot: std::ptr::null_mut(),
        });
        st.notify_watchers();
        Registration::Registered
    }

    pub(super) fn register_send(&self, me: &WaiterRef, op: usize) -> Registration {
        let mut st = self.lock();
        if st.receivers_gone || st.free_slots() > 0 || st.has_open_receiver(Some(me)) {
            return Registration::Ready;
        }
        st.senders.push_back(SendEntry {
            waiter: me.clone(),
            op,
            msg: None,
        });
        st.notify_watchers();
        Registration::Registered
    }

    /// `Select::ready` support: registers a watcher unless `ready` says the operation can
    /// proceed now.
    pub(super) fn watch(
        &self,
        me: &WaiterRef,
        op: usize,
        ready: fn(&super::state::State<T>) -> bool,
    ) -> bool {
        let mut st = self.lock();
        if ready(&st) {
            return true;
        }
        st.watchers.push((me.clone(), op));
        false
    }

    pub(super) fn unwatch(&self, me: &WaiterRef, op: usize) {
        let mut st = self.lock();
        if let Some(pos) = st.watchers.iter().position(|(w, o)| *o == op && w.same(me)) {
            st.watchers.swap_remove(pos);
        }
    }

    pub(super) fn complete_recv(&self, token: Token) -> Result<T, RecvError> {
        if token == Token::Recv {
            if let Some(msg) = self.claim() {
                return Ok(msg);
            }
        }
        // Closed, or the sender that owed the message gave up: an ordinary receive.
        self.recv(None).map_err(|_| RecvError)
    }

    pub(super) fn complete_send(&self, token: Token, msg: T) -> Result<(), SendError<T>> {
        let mut st = self.lock();
        match token {
            Token::Send => st.send_reserved -= 1,
            Token::Commit => {
                if let Some(r) = st.take_pair(&WaiterRef::current()) {
                    st.delivered.push((key(&r), Some(msg)));
                    drop(st);
                    r.unpark();
                    return Ok(());
                }
            }
            _ => {}
        }
        if st.receivers_gone {
            return Err(SendError(msg));
        }
        match st.put(msg, None) {
            Ok(w) => {
                drop(st);
                unpark(w);
                Ok(())
            }
            Err(msg) => {
                // Only without a reservation (cannot happen: Closed means disconnected).
                drop(st);
                self.send(msg, None).map_err(|e| SendError(e.into_inner()))
            }
        }
    }

    pub(super) fn release_recv(&self, token: Token, buf: &mut MsgBuf) {
        let msg = match token {
            Token::Recv => match self.claim() {
                Some(msg) => msg,
                None => return,
            },
            // SAFETY: an `Inline` token of this channel means `reserve_recv` put a `T` in `buf`
            // and nobody took it yet (the token is consumed here).
            Token::Inline => unsafe { buf.take::<T>() },
            _ => return,
        };
        let mut st = self.lock();
        let w = match st.give_to_receiver(msg, None) {
            Ok(w) => Some(w),
            Err(msg) => {
                st.buf.push_front(msg);
                st.notify_watchers();
                None
            }
        };
        drop(st);
        unpark(w);
    }

    pub(super) fn release_send(&self, token: Token) {
        let mut st = self.lock();
        let w = match token {
            Token::Send => {
                st.send_reserved -= 1;
                st.notify_watchers();
                st.admit_sender(None)
            }
            Token::Commit => {
                let r = st.take_pair(&WaiterRef::current());
                if let Some(r) = &r {
                    st.delivered.push((key(r), None));
                }
                r
            }
            _ => None,
        };
        drop(st);
        unpark(w);
    }
}

impl<T> SelectHandle for Receiver<T> {
    fn try_reserve(&self, buf: &mut MsgBuf) -> Option<Token> {
        self.flavor_try_reserve(buf)
    }

    fn register(&self, waiter: &WaiterRef, op: usize) -> Registration {
        match self.chan() {
            Some(chan) => chan.register_recv(waiter, op),
            None => Registration::Skipped,
        }
    }

    fn unregister(&self, waiter: &WaiterRef, op: usize) -> bool {
        match self.chan() {
            Some(chan) => !chan.lock().remove_receiver(waiter, op),
            None => false,
        }
    }

    fn taken_token(&self) -> Token {
        Token::Recv
    }

    fn is_ready(&self) -> bool {
        match self.chan() {
            Some(chan) => chan.lock().recv_ready(),
            None => self.flavor_timer_ready(),
        }
    }

    fn watch(&self, waiter: &WaiterRef, op: usize) -> bool {
        match self.chan() {
            Some(chan) => chan.watch(waiter, op, super::state::State::recv_ready),
            None => self.flavor_timer_ready(),
        }
    }

    fn unwatch(&self, waiter: &WaiterRef, op: usize) {
        if let Some(chan) = self.chan() {
            chan.unwatch(waiter, op);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        self.flavor_deadline()
    }

    fn release(&self, token: Token, buf: &mut MsgBuf) {
        self.flavor_release(token, buf);
    }
}

impl<T> SelectHandle for Sender<T> {
    fn try_reserve(&self, _buf: &mut MsgBuf) -> Option<Token> {
        self.chan.reserve_send()
    }

    fn register(&self, waiter: &WaiterRef, op: usize) -> Registration {
        self.chan.register_send(waiter, op)
    }

    fn unregister(&self, waiter: &WaiterRef, op: usize) -> bool {
        matches!(self.chan.lock().remove_sender(waiter, op), Withdrawn::Gone)
    }

    fn is_ready(&self) -> bool {
        self.chan.lock().send_ready()
    }

    fn watch(&self, waiter: &WaiterRef, op: usize) -> bool {
        self.chan.watch(waiter, op, super::state::State::send_ready)
    }

    fn unwatch(&self, waiter: &WaiterRef, op: usize) {
        self.chan.unwatch(waiter, op);
    }

    fn taken_token(&self) -> Token {
        if self.chan.cap == Some(0) {
            Token::Commit
        } else {
            Token::Send
        }
    }

    fn deadline(&self) -> Option<Instant> {
        None
    }

    fn release(&self, token: Token, _buf: &mut MsgBuf) {
        self.chan.release_send(token);
    }
}
