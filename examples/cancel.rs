//! Cancelling coroutines: a sleeper, a receiver and a lock waiter unwind from their blocking
//! calls, their destructors run, and their joins report the cancellation.
//!
//! Run: `cargo run --release -p may --example cancel`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use may::go;
use may::sync::{mpmc, Mutex};

struct Cleanup(&'static str, Arc<AtomicUsize>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
        println!("{}: cleaned up", self.0);
    }
}

#[may::main]
fn main() {
    let cleaned = Arc::new(AtomicUsize::new(0));
    let (_tx, rx) = mpmc::unbounded::<u32>();
    let lock = Arc::new(Mutex::new(0u32));
    let held = lock.lock().expect("not poisoned");

    let c = cleaned.clone();
    let sleeper = go!(move || {
        let _c = Cleanup("sleeper", c);
        may::coroutine::sleep(Duration::from_secs(3600));
    });
    let c = cleaned.clone();
    let receiver = go!(move || {
        let _c = Cleanup("receiver", c);
        rx.recv().ok()
    });
    let c = cleaned.clone();
    let l = lock.clone();
    let locker = go!(move || {
        let _c = Cleanup("locker", c);
        *l.lock().expect("not poisoned") += 1;
    });

    may::coroutine::sleep(Duration::from_millis(20)); // let them block
    for co in [
        sleeper.coroutine(),
        receiver.coroutine(),
        locker.coroutine(),
    ] {
        co.cancel();
    }
    assert!(sleeper.join().unwrap_err().is_cancelled());
    assert!(receiver.join().unwrap_err().is_cancelled());
    assert!(locker.join().unwrap_err().is_cancelled());
    drop(held);
    assert_eq!(
        *lock.lock().expect("not poisoned"),
        0,
        "the locker never got the lock"
    );
    assert_eq!(cleaned.load(Ordering::SeqCst), 3);
    println!("3 coroutines cancelled, 3 destructors ran, the mutex is free");
}
