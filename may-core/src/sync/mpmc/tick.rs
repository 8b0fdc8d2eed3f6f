//! The `tick(d)` flavor: a receiver that gets a message every `d` (the instant of delivery);
//! ticks missed while nobody received are dropped, like crossbeam-channel.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::at::{earliest, sleep_until};
use super::error::{RecvTimeoutError, TryRecvError};

/// A periodic timer channel.
#[derive(Debug)]
pub(crate) struct Tick {
    /// The next delivery time; `None` when it does not fit in an `Instant`.
    next: Mutex<Option<Instant>>,
    period: Duration,
}

impl Tick {
    pub(super) fn new(period: Duration) -> Tick {
        Tick {
            next: Mutex::new(Instant::now().checked_add(period)),
            period,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // Only plain values live under this lock: poisoning cannot leave it inconsistent.
        self.next.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn try_recv(&self) -> Result<Instant, TryRecvError> {
        let mut next = self.lock();
        let now = Instant::now();
        match *next {
            Some(at) if now >= at => {
                *next = now.checked_add(self.period);
                Ok(at)
            }
            _ => Err(TryRecvError::Empty),
        }
    }

    pub(super) fn recv(&self, deadline: Option<Instant>) -> Result<Instant, RecvTimeoutError> {
        loop {
            if let Ok(at) = self.try_recv() {
                return Ok(at);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(RecvTimeoutError::Timeout);
            }
            sleep_until(earliest(deadline, self.deadline()));
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        *self.lock()
    }

    pub(super) fn is_ready(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// Puts a reserved tick back: the next delivery is again the one that was reserved.
    pub(super) fn release(&self, at: Instant) {
        let mut next = self.lock();
        *next = Some(next.map_or(at, |n| n.min(at)));
    }
}
