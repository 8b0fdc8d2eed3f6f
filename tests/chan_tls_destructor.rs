//! Channel operations that block inside a thread-local's destructor, after the thread's own
//! waiter (itself a thread-local, destroyed first) is gone, still work: a timed receive, a
//! `select!` that times out, and a rendezvous `select!` send paired with a receiver on another
//! thread (which needs the same waiter identity on every call of the operation).

use std::cell::RefCell;
use std::time::Duration;

use may::sync::mpmc::{self, Receiver, RecvTimeoutError, Sender};

/// Runs its channel operations when its thread exits, reporting each outcome on `report`.
struct AtExit {
    empty: Receiver<u32>,
    rendezvous: Sender<u32>,
    report: Sender<&'static str>,
}

impl Drop for AtExit {
    fn drop(&mut self) {
        let timed = self.empty.recv_timeout(Duration::from_millis(1));
        assert_eq!(timed, Err(RecvTimeoutError::Timeout));
        self.report.send("recv_timeout").unwrap();

        let picked = may::select! {
            recv(self.empty) -> _m => "message",
            default(Duration::from_millis(1)) => "default",
        };
        self.report.send(picked).unwrap();

        let sent = may::select! {
            send(self.rendezvous, 42) -> res => res.map(|()| "sent"),
            default(Duration::from_secs(30)) => Ok("gave up"),
        };
        self.report.send(sent.unwrap()).unwrap();
    }
}

thread_local! {
    static AT_EXIT: RefCell<Option<AtExit>> = const { RefCell::new(None) };
}

#[test]
fn blocking_in_a_thread_local_destructor() {
    let (_keep, empty) = mpmc::unbounded::<u32>();
    let (rendezvous, peer) = mpmc::bounded::<u32>(0);
    let (report, reports) = mpmc::unbounded();
    let thread = std::thread::spawn(move || {
        // Registered before the waiter's thread-local, so destroyed after it.
        let at_exit = AtExit {
            empty: empty.clone(),
            rendezvous,
            report,
        };
        AT_EXIT.with(|slot| *slot.borrow_mut() = Some(at_exit));
        // The first blocking call creates this thread's waiter.
        assert_eq!(
            empty.recv_timeout(Duration::from_millis(1)),
            Err(RecvTimeoutError::Timeout)
        );
    });
    // The exiting thread's rendezvous send pairs with this receive.
    assert_eq!(peer.recv_timeout(Duration::from_secs(30)), Ok(42));
    thread.join().unwrap();
    let got: Vec<_> = reports.try_iter().collect();
    assert_eq!(got, ["recv_timeout", "default", "sent"]);
}
