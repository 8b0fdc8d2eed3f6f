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

/// The guard given to `Condvar::wait` no longer counts as held: whether the cancellation comes
/// while the waiter is parked or was already pending when it called `wait` (it then unwinds
/// from `wait` before parking), the mutex is released without poisoning. Found by the
/// cancellation-injection harness (tests/cancel_inject_sync.rs): the second case poisoned.
#[test]
fn a_cancelled_condvar_waiter_never_poisons_the_mutex() {
    use may::sync::Condvar;
    for cancel_before_wait in [false, true] {
        let state = std::sync::Arc::new((Mutex::new(0u32), Condvar::new()));
        let (ready_tx, ready_rx) = mpmc::bounded::<()>(0);
        let waiter = {
            let state = state.clone();
            coroutine::spawn(move || {
                let (lock, cond) = &*state;
                let mut guard = lock.lock().unwrap();
                *guard += 1;
                if cancel_before_wait {
                    coroutine::current().cancel();
                } else {
                    ready_tx.send(()).unwrap();
                }
                let _guard = cond.wait(guard);
                unreachable!("cancelled in wait");
            })
        };
        if !cancel_before_wait {
            ready_rx.recv().unwrap();
            // It parks in `wait` once it has released the lock.
            drop(state.0.lock().unwrap());
            waiter.coroutine().cancel();
        }
        assert!(waiter.join().unwrap_err().is_cancelled());
        assert!(
            !state.0.is_poisoned(),
            "cancel before wait: {cancel_before_wait}"
        );
        assert_eq!(*state.0.lock().unwrap(), 1);
    }
}
