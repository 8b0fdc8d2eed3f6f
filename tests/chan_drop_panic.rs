//! A buffered message whose destructor panics while the last receiver drops the channel's
//! buffer: the first panic reaches the code dropping the receiver (with its payload), the
//! process does not abort, the messages before it are dropped once, and the ones after it are
//! leaked (as crossbeam-channel does: dropping them could panic again during the unwind).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use may::sync::mpmc::{self, Receiver, Sender};

/// Counts its drops; panics in its destructor when `panics` is set.
struct Msg {
    drops: Arc<AtomicUsize>,
    panics: Option<&'static str>,
}

impl Drop for Msg {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if let Some(payload) = self.panics {
            panic!("{payload}");
        }
    }
}

/// Buffers `plan` (a panic payload per panicking message), drops the receiver and returns the
/// payload that came out and the drop count per message.
fn drop_buffer(
    channel: (Sender<Msg>, Receiver<Msg>),
    plan: &[Option<&'static str>],
) -> (String, Vec<usize>) {
    let (tx, rx) = channel;
    let counters: Vec<_> = plan.iter().map(|_| Arc::new(AtomicUsize::new(0))).collect();
    for (panics, drops) in plan.iter().zip(&counters) {
        let drops = drops.clone();
        tx.send(Msg {
            drops,
            panics: *panics,
        })
        .unwrap();
    }
    let payload = catch_unwind(AssertUnwindSafe(move || drop(rx))).unwrap_err();
    let payload = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    // Sending now fails and gives the message back, which is dropped normally here.
    let extra = Arc::new(AtomicUsize::new(0));
    let back = tx.send(Msg {
        drops: extra.clone(),
        panics: None,
    });
    assert!(back.is_err());
    drop(back);
    assert_eq!(extra.load(Ordering::SeqCst), 1);
    (
        payload,
        counters.iter().map(|c| c.load(Ordering::SeqCst)).collect(),
    )
}

#[test]
fn first_panic_propagates_and_later_messages_leak() {
    let plan = [None, Some("first"), None, Some("second"), None];
    for (name, channel) in [
        ("bounded", mpmc::bounded(8)),
        ("unbounded", mpmc::unbounded()),
    ] {
        let (payload, drops) = drop_buffer(channel, &plan);
        assert_eq!(payload, "first", "{name}");
        assert_eq!(drops, [1, 1, 0, 0, 0], "{name}");
    }
}

#[test]
fn a_panic_in_the_last_message_drops_every_other_one() {
    let plan = [None, None, Some("last")];
    let (payload, drops) = drop_buffer(mpmc::bounded(3), &plan);
    assert_eq!(payload, "last");
    assert_eq!(drops, [1, 1, 1]);
}
