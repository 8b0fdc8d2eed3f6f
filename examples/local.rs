//! Coroutine-local storage: each coroutine sees its own value; plain threads get a per-thread
//! fallback.
//!
//! Run: `cargo run --release -p may --example local`

use std::cell::Cell;

use may::go;

may::coroutine_local!(static REQUESTS: Cell<u32> = Cell::new(0));

fn handle_request() {
    REQUESTS.with(|r| r.set(r.get() + 1));
    may::coroutine::yield_now();
}

#[may::main]
fn main() {
    let handles: Vec<_> = (1..=100u32)
        .map(|n| {
            go!(move || {
                for _ in 0..n {
                    handle_request();
                }
                REQUESTS.with(Cell::get)
            })
        })
        .collect();
    let counts: Vec<u32> = handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .collect();
    assert_eq!(
        counts,
        (1..=100).collect::<Vec<_>>(),
        "no coroutine saw another's count"
    );
    let from_thread = std::thread::spawn(|| {
        handle_request();
        REQUESTS.with(Cell::get)
    })
    .join()
    .expect("thread");
    assert_eq!(from_thread, 1);
    println!(
        "100 coroutines each counted only their own requests: {:?}..",
        &counts[..5]
    );
}
