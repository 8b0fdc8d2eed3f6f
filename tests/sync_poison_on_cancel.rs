//! A coroutine cancelled while it holds a lock unwinds through its guard, which poisons the
//! lock as a panic does (std's rule: the critical section was cut short). may 0.3 did not
//! poison on cancellation; docs/migrating.md says how to recover the data.

use std::sync::PoisonError;

use may::coroutine;
use may::sync::{mpmc, Mutex, RwLock};

#[test]
fn a_cancelled_holder_poisons_the_mutex_and_the_data_stays_reachable() {
    let lock = std::sync::Arc::new(Mutex::new(0u32));
    let (locked_tx, locked_rx) = mpmc::bounded::<()>(0);
    let (_never_tx, never) = mpmc::bounded::<()>(0);
    let holder = {
        let lock = lock.clone();
        coroutine::spawn(move || {
            let mut guard = lock.lock().unwrap();
            *guard += 1;
            locked_tx.send(()).unwrap();
            // Blocks holding the guard until cancelled.
            let _ = never.recv();
            *guard += 100;
        })
    };
    locked_rx.recv().unwrap();
    holder.coroutine().cancel();
    assert!(holder.join().unwrap_err().is_cancelled());
    assert!(lock.is_poisoned());
    let value = *lock.lock().unwrap_or_else(PoisonError::into_inner);
    assert_eq!(
        value, 1,
        "the cancelled section stopped at its blocking call"
    );
    lock.clear_poison();
    assert_eq!(*lock.lock().unwrap(), 1);
}

#[test]
fn a_cancelled_writer_poisons_the_rwlock_a_cancelled_reader_does_not() {
    let lock = std::sync::Arc::new(RwLock::new(vec![1u8]));
    for write in [false, true] {
        let (locked_tx, locked_rx) = mpmc::bounded::<()>(0);
        let (_never_tx, never) = mpmc::bounded::<()>(0);
        let holder = {
            let lock = lock.clone();
            coroutine::spawn(move || {
                if write {
                    let mut guard = lock.write().unwrap();
                    guard.push(2);
                    locked_tx.send(()).unwrap();
                    let _ = never.recv();
                } else {
                    let _guard = lock.read().unwrap();
                    locked_tx.send(()).unwrap();
                    let _ = never.recv();
                }
            })
        };
        locked_rx.recv().unwrap();
        holder.coroutine().cancel();
        assert!(holder.join().unwrap_err().is_cancelled());
        assert_eq!(lock.is_poisoned(), write);
    }
    let data = lock.read().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(data, [1, 2]);
}
