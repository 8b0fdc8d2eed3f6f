//! `#[macro_use] extern crate may;`, the first line of most may 0.3 files, still brings the
//! function-like macros (`go!`, `select!`, `join!`, `coroutine_local!`), and `#[may::test]`
//! written out works beside it. A bare `#[test]` in such a file is a compile error instead of
//! silently becoming `#[may::test]` (tests/ui/test_via_macro_use.rs).
#[macro_use]
extern crate may;

use std::cell::Cell;

use may::sync::mpsc;

coroutine_local!(static HITS: Cell<u32> = Cell::new(0));

fn bump() -> u32 {
    HITS.with(|h| {
        h.set(h.get() + 1);
        h.get()
    })
}

#[may::test]
fn the_macros_come_from_macro_use() {
    assert!(
        may::coroutine::is_coroutine(),
        "#[may::test] runs in a coroutine"
    );
    let (tx, rx) = mpsc::channel();
    let sender = go!(move || {
        for i in 1..=3u32 {
            tx.send(i).unwrap();
        }
    });
    let mut sum = 0;
    for _ in 0..3 {
        sum += select! {
            v = rx.recv() => v.unwrap(),
        };
    }
    sender.join().unwrap();
    assert_eq!(sum, 6);
    let (a, b) = join!(bump(), bump());
    assert_eq!((a, b), (1, 1), "each branch of join! is its own coroutine");
}
