//! The pause of an accept loop after the system ran out of descriptors or memory.
//!
//! When `accept` fails with `EMFILE`, `ENFILE`, `ENOBUFS` or `ENOMEM`, the connection stays
//! queued and the listener stays readable, so a loop that logs the error and accepts again
//! fails again at once, burning a core until something frees a descriptor. The `incoming()`
//! iterators of the listeners therefore pause before their next accept after such an error:
//! 5 ms, twice as long after each further one, at most a second, and not at all after a
//! success (the back-off of Go's `net/http` server on temporary accept errors). The error
//! itself is handed out at once, so a loop that gives up on it (`stream?`) does not wait.
//! `accept()` never pauses.

use std::io;
use std::time::Duration;

/// The first pause after a resource error.
pub(crate) const FIRST_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause.
pub(crate) const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// The back-off state of one accept loop.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    /// The pause after the latest resource error; zero after a success.
    delay: Duration,
    /// Whether the next accept waits `delay` first.
    pending: bool,
}

impl AcceptBackoff {
    /// A loop that has not failed yet.
    pub(crate) const fn new() -> AcceptBackoff {
        AcceptBackoff {
            delay: Duration::ZERO,
            pending: false,
        }
    }

    /// Takes note of an accept's outcome: a resource error doubles the pause and makes the
    /// next accept wait; a success resets it; other errors (a client gone before it was
    /// accepted) change nothing.
    pub(crate) fn record<T>(&mut self, outcome: &io::Result<T>) {
        match outcome {
            Ok(_) => self.delay = Duration::ZERO,
            Err(err) if crate::sys::out_of_resources(err) => {
                self.delay = (self.delay * 2).clamp(FIRST_PAUSE, LONGEST_PAUSE);
                self.pending = true;
            }
            Err(_) => {}
        }
    }

    /// The pause due before the next accept, if any (taking it).
    fn take_pause(&mut self) -> Option<Duration> {
        std::mem::take(&mut self.pending).then_some(self.delay)
    }

    /// Waits the pause due before the next accept, if any: parks the calling coroutine (a
    /// cancellation point) or sleeps the thread.
    pub(crate) fn pause(&mut self) {
        if let Some(delay) = self.take_pause() {
            crate::wait::sleep(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exhausted() -> io::Result<()> {
        #[cfg(unix)]
        let code = libc::EMFILE;
        #[cfg(windows)]
        let code = windows_sys::Win32::Networking::WinSock::WSAEMFILE;
        Err(io::Error::from_raw_os_error(code))
    }

    #[test]
    fn pauses_double_up_to_a_second_and_reset_on_success() {
        let mut backoff = AcceptBackoff::new();
        assert_eq!(backoff.take_pause(), None);
        let mut pauses = Vec::new();
        for _ in 0..10 {
            backoff.record(&exhausted());
            pauses.push(backoff.take_pause().unwrap().as_millis());
        }
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        // A client that left before its accept: no pause, the level is kept.
        backoff.record::<()>(&Err(io::ErrorKind::ConnectionAborted.into()));
        assert_eq!(backoff.take_pause(), None);
        backoff.record(&Ok(()));
        assert_eq!(backoff.take_pause(), None);
        backoff.record(&exhausted());
        assert_eq!(backoff.take_pause(), Some(FIRST_PAUSE));
    }
}
