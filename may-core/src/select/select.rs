//! `Select`: block until one of several channel operations can proceed.

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, Instant};

use super::error::{ReadyTimeoutError, SelectTimeoutError, TryReadyError, TrySelectError};
use super::rand::Order;
use super::selected::SelectedOperation;
use crate::sync::mpmc::select_handle::{MsgBuf, Registration, SelectHandle, Token};
use crate::sync::mpmc::{Receiver, Sender};
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaiterRef};

#[derive(Clone, Copy)]
struct Op<'a> {
    handle: &'a dyn SelectHandle,
    index: usize,
    /// Address of the channel end, to check that the completion uses the same one.
    addr: usize,
}

/// Waits on several send and receive operations at once, like crossbeam-channel's `Select`.
///
/// A `Select` is `Clone`, `Send` and `Sync`, so one set of operations can be selected from
/// several threads or coroutines; the returned [`SelectedOperation`] must be completed where it
/// was selected. Message types need not be `Send`, as in crossbeam-channel.
///
/// When several operations are ready, one of them is chosen uniformly at random (unless built
/// with [`new_biased`](Self::new_biased): then the first ready one in insertion order).
/// Operations on disconnected channels are ready (their completion returns the error).
///
/// ```
/// use may_core::select::Select;
/// use may_core::sync::mpmc;
///
/// let (tx1, rx1) = mpmc::unbounded::<i32>();
/// let (_tx2, rx2) = mpmc::unbounded::<i32>();
/// tx1.send(10).unwrap();
///
/// let mut sel = Select::new();
/// let a = sel.recv(&rx1);
/// let b = sel.recv(&rx2);
/// let oper = sel.select();
/// match oper.index() {
///     i if i == a => assert_eq!(oper.recv(&rx1), Ok(10)),
///     i if i == b => panic!("nothing was sent on rx2: {:?}", oper.recv(&rx2)),
///     _ => unreachable!(),
/// }
/// ```
#[derive(Clone)]
pub struct Select<'a> {
    ops: Ops<'a>,
    next_index: usize,
    biased: bool,
}

impl<'a> Select<'a> {
    /// An empty selection that picks at random among ready operations.
    pub fn new() -> Select<'a> {
        Select {
            ops: Ops::default(),
            next_index: 0,
            biased: false,
        }
    }

    /// An empty selection that picks the first ready operation, in the order they were added.
    pub fn new_biased() -> Select<'a> {
        Select {
            biased: true,
            ..Select::new()
        }
    }

    fn add(&mut self, handle: &'a dyn SelectHandle, addr: usize) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        self.ops.push(Op {
            handle,
            index,
            addr,
        });
        index
    }

    /// Adds a send operation on `s`; returns its index.
    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        self.add(s, s as *const Sender<T> as usize)
    }

    /// Adds a receive operation on `r`; returns its index.
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        self.add(r, r as *const Receiver<T> as usize)
    }

    /// Removes the operation with `index`.
    ///
    /// # Panics
    /// If no operation has that index.
    pub fn remove(&mut self, index: usize) {
        let pos = (0..self.ops.len())
            .position(|pos| self.ops.get(pos).index == index)
            .expect("no operation with this index");
        self.ops.remove(pos);
    }

    /// Selects an operation that is ready now, without blocking.
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        self.run(None).ok_or(TrySelectError)
    }

    /// Blocks until an operation is ready and selects it.
    pub fn select(&mut self) -> SelectedOperation<'a> {
        match self.run(Some(None)) {
            Some(oper) => oper,
            None => unreachable!("a selection without deadline returned without an operation"),
        }
    }

    /// Like [`select`](Self::select), giving up after `timeout`.
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.run(Some(Instant::now().checked_add(timeout)))
            .ok_or(SelectTimeoutError)
    }

    /// Like [`select`](Self::select), giving up at `deadline`.
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        self.run(Some(Some(deadline))).ok_or(SelectTimeoutError)
    }

    /// The index of an operation that is ready now, without completing it.
    pub fn try_ready(&mut self) -> Result<usize, TryReadyError> {
        self.run_ready(None).ok_or(TryReadyError)
    }

    /// Blocks until an operation is ready and returns its index, without completing it (by the
    /// time the caller acts, another thread may have taken the opportunity).
    pub fn ready(&mut self) -> usize {
        match self.run_ready(Some(None)) {
            Some(index) => index,
            None => unreachable!("a selection without deadline returned without an operation"),
        }
    }

    /// Like [`ready`](Self::ready), giving up after `timeout`.
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        self.run_ready(Some(Instant::now().checked_add(timeout)))
            .ok_or(ReadyTimeoutError)
    }

    /// Like [`ready`](Self::ready), giving up at `deadline`.
    pub fn ready_deadline(&mut self, deadline: Instant) -> Result<usize, ReadyTimeoutError> {
        self.run_ready(Some(Some(deadline)))
            .ok_or(ReadyTimeoutError)
    }

    fn selected(&self, pos: usize, token: Token, buf: MsgBuf) -> SelectedOperation<'a> {
        let op = self.ops.get(pos);
        SelectedOperation {
            handle: op.handle,
            index: op.index,
            addr: op.addr,
            token: Some(token),
            buf,
            _not_send: std::marker::PhantomData,
        }
    }

    /// The `ready` loop: like `run`, but nothing is reserved; the waiter watches the channels
    /// (woken on any change) instead of registering for a hand-off. Returns the user index.
    fn run_ready(&self, block: Option<Option<Instant>>) -> Option<usize> {
        let n = self.ops.len();
        let (deadline, on_cancel) = Self::mode(block);
        let order = Order::new(n, self.biased);
        let timer = self.earliest_timer(&order, deadline);
        let mut last_chance = false;
        loop {
            for k in 0..n {
                let op = self.ops.get(order.get(k));
                if op.handle.is_ready() {
                    return Some(op.index);
                }
            }
            if last_chance {
                return None;
            }
            let watched = Cell::new(0);
            let unwatch = |me: &WaiterRef| {
                for k in 0..watched.get() {
                    let pos = order.get(k);
                    self.ops.get(pos).handle.unwatch(me, pos);
                }
            };
            let woken = wait::wait(
                WaitReason::Select { operations: n },
                timer,
                on_cancel,
                |me| {
                    watched.set(0);
                    for k in 0..n {
                        let pos = order.get(k);
                        let op = self.ops.get(pos);
                        if op.handle.watch(me, pos) {
                            unwatch(me);
                            return Registered::Done(Some(op.index));
                        }
                        watched.set(k + 1);
                    }
                    Registered::Waiting
                },
                |me, sel| {
                    unwatch(me);
                    // Woken by a change, a timer or the deadline: look again. A cancellation
                    // unwinds (with nothing watched any more).
                    (sel != Selected::Cancelled).then_some(None)
                },
            );
            if let Ok(Some(index)) = woken {
                return Some(index);
            }
            last_chance = deadline.is_some_and(|d| Instant::now() >= d);
        }
    }

    /// The deadline and cancellation mode of a run: `block` is `None` to only try (the deadline
    /// is now, and a `try_` is not a cancellation point), `Some(deadline)` to wait.
    fn mode(block: Option<Option<Instant>>) -> (Option<Instant>, OnCancel) {
        match block {
            None => (Some(Instant::now()), OnCancel::Defer),
            Some(deadline) => (deadline, OnCancel::Unwind),
        }
    }

    /// The earliest of `deadline` and the operations' own deadlines (timers).
    fn earliest_timer(&self, order: &Order, deadline: Option<Instant>) -> Option<Instant> {
        (0..self.ops.len()).fold(deadline, |timer, k| {
            earliest(timer, self.ops.get(order.get(k)).handle.deadline())
        })
    }

    /// The selection loop. `block`: `None` to only try, `Some(deadline)` to wait (until the
    /// deadline, if any). Builds the selected operation around the message buffer the
    /// reservation filled (returned by value once, not moved through a tuple: copying the
    /// freshly written buffer stalls on store forwarding).
    fn run(&self, block: Option<Option<Instant>>) -> Option<SelectedOperation<'a>> {
        let n = self.ops.len();
        let mut buf = MsgBuf::new();
        let (deadline, on_cancel) = Self::mode(block);
        let order = Order::new(n, self.biased);
        let timer = self.earliest_timer(&order, deadline);
        let mut last_chance = false;
        loop {
            for k in 0..n {
                let pos = order.get(k);
                if let Some(token) = self.ops.get(pos).handle.try_reserve(&mut buf) {
                    return Some(self.selected(pos, token, buf));
                }
            }
            if last_chance {
                return None;
            }
            // Past the deadline (or for a `try_`), one registration round still runs, then one
            // more try round, as in crossbeam: a message that arrived after its operation was
            // tried is handed to us or seen there, which keeps the selection linearizable.
            if let Some((pos, token)) = self.wait_round(&order, timer, on_cancel) {
                return Some(self.selected(pos, token, buf));
            }
            last_chance = deadline.is_some_and(|d| Instant::now() >= d);
        }
    }

    /// Registers on every operation, waits (until `timer`), and unregisters; returns the
    /// reservation a peer made for us, if any. An operation found ready while registering ends
    /// the round at once (the next try round takes it). A cancelled coroutine unwinds, holding
    /// nothing.
    fn wait_round(
        &self,
        order: &Order,
        timer: Option<Instant>,
        on_cancel: OnCancel,
    ) -> Option<(usize, Token)> {
        let n = self.ops.len();
        let registered = Cell::new(0);
        let withdraw = |me: &WaiterRef| {
            let mut found = None;
            for k in 0..registered.get() {
                let pos = order.get(k);
                let handle = self.ops.get(pos).handle;
                if handle.unregister(me, pos) {
                    found = Some((pos, handle.taken_token()));
                }
            }
            found
        };
        let round = wait::wait(
            WaitReason::Select { operations: n },
            timer,
            on_cancel,
            |me| {
                registered.set(0);
                for k in 0..n {
                    let pos = order.get(k);
                    match self.ops.get(pos).handle.register(me, pos) {
                        Registration::Registered | Registration::Skipped => registered.set(k + 1),
                        Registration::Ready => return Registered::Done(withdraw(me)),
                    }
                }
                Registered::Waiting
            },
            |me, sel| {
                let found = withdraw(me);
                // Only a peer that won our slot reserves for us, so a won cancellation holds
                // nothing: unwind (from `wait`).
                (found.is_some() || sel != Selected::Cancelled).then_some(found)
            },
        );
        round.unwrap_or_default()
    }
}

/// The operations of a `Select`: inline up to 4 (no allocation for the common case), then a
/// vector.
#[derive(Default, Clone)]
struct Ops<'a> {
    small: [Option<Op<'a>>; 4],
    len: usize,
    big: Vec<Op<'a>>,
}

impl<'a> Ops<'a> {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, op: Op<'a>) {
        if self.big.is_empty() && self.len < self.small.len() {
            self.small[self.len] = Some(op);
        } else {
            if self.big.is_empty() {
                self.big
                    .extend(self.small.iter_mut().filter_map(Option::take));
            }
            self.big.push(op);
        }
        self.len += 1;
    }

    fn get(&self, pos: usize) -> Op<'a> {
        if self.big.is_empty() {
            self.small[pos].expect("operation position out of range")
        } else {
            self.big[pos]
        }
    }

    fn remove(&mut self, pos: usize) {
        if self.big.is_empty() {
            self.small[pos..].rotate_left(1);
            self.small[self.small.len() - 1] = None;
        } else {
            self.big.remove(pos);
        }
        self.len -= 1;
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

// SAFETY: a `Select` holds shared references to channel ends, and what it does through them
// (try, reserve, register, wait, release) only moves messages between the channel's own slots
// and the `SelectedOperation` it returns, under the channel's lock: it never drops a message
// and never hands one to its caller. A message reaches the selecting thread only through
// `SelectedOperation::recv(&r)` (and a send needs `&s`), which takes a `&Receiver<T>` on that
// thread, so `Receiver<T>: Sync`, so `T: Send`. Hence moving or sharing a `Select` whose
// message types are not `Send` moves no such message to another thread, as in crossbeam-channel.
unsafe impl Send for Select<'_> {}
// SAFETY: as for `Send`; every method that selects takes `&mut self`.
unsafe impl Sync for Select<'_> {}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<X: Send + Sync>() {}
    check::<Select<'static>>();
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("operations", &self.ops.len())
            .finish_non_exhaustive()
    }
}
