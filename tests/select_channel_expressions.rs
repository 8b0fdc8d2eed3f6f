//! The channel in a `recv(..)`/`send(..)` branch may be any expression crossbeam-channel's
//! `select!` takes: a temporary that must live through the selection (`r.unwrap_or(&never())`,
//! `after(d)`), a reference to a reference, a `Box`, or a user type that derefs to a
//! `Sender`/`Receiver`. Each expression is evaluated once.

use std::cell::Cell;
use std::ops::Deref;
use std::time::Duration;

use may::sync::mpmc::{self, never, Receiver, Sender};

#[test]
fn temporaries_live_through_the_select() {
    let (tx, rx) = mpmc::unbounded::<u8>();
    tx.send(1).unwrap();
    let mut picked = Vec::new();
    for (maybe, wait) in [(None, 1), (Some(&rx), 3_600_000)] {
        picked.push(may::select! {
            recv(maybe.unwrap_or(&never())) -> m => m.unwrap(),
            recv(mpmc::after(Duration::from_millis(wait))) -> t => { t.unwrap(); 0 }
        });
    }
    assert_eq!(picked, [0, 1], "the timer, then the message");
}

struct MyReceiver(Receiver<u8>);
struct MySender(Sender<u8>);

impl Deref for MyReceiver {
    type Target = Receiver<u8>;
    fn deref(&self) -> &Receiver<u8> {
        &self.0
    }
}

impl Deref for MySender {
    type Target = Sender<u8>;
    fn deref(&self) -> &Sender<u8> {
        &self.0
    }
}

#[test]
fn references_boxes_and_deref_wrappers() {
    let (tx, rx) = mpmc::bounded::<u8>(1);
    let (my_tx, my_rx) = (MySender(tx.clone()), MyReceiver(rx.clone()));
    let boxed: Box<Receiver<u8>> = Box::new(rx.clone());
    let by_ref = &&rx;
    let mut total = 0;
    for round in 0..4u8 {
        may::select! {
            send(my_tx, round) -> res => res.unwrap(),
        }
        total += match round {
            0 => may::select! { recv(my_rx) -> m => m.unwrap() },
            1 => may::select! { recv(boxed) -> m => m.unwrap() },
            2 => may::select! { recv(&boxed) -> m => m.unwrap() },
            _ => may::select! { recv(by_ref) -> m => m.unwrap() },
        };
    }
    assert_eq!(total, 1 + 2 + 3);
}

#[test]
fn channel_expressions_are_evaluated_once() {
    let (tx, rx) = mpmc::unbounded::<u8>();
    tx.send(9).unwrap();
    let evaluated = Cell::new(0);
    let counted = || {
        evaluated.set(evaluated.get() + 1);
        &rx
    };
    let got = may::select! {
        recv(counted()) -> m => m.unwrap(),
        recv(counted()) -> m => m.unwrap(),
    };
    assert_eq!((got, evaluated.get()), (9, 2));
}
