//! The `after(d)` flavor: a receiver that gets one message (the instant it fired) once `d`
//! has passed, plus the timed sleep shared by the timer flavors and `never()`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::error::{RecvTimeoutError, TryRecvError};

/// Parks the caller until `deadline` (forever when `None`); a cancelled coroutine unwinds.
pub(super) fn sleep_until(deadline: Option<Instant>) {
    crate::wait::sleep_until(deadline);
}

/// The earlier of two optional deadlines (`None` is "never").
pub(super) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// A one-shot timer channel.
#[derive(Debug)]
pub(crate) struct At {
    when: Option<Instant>,
    taken: AtomicBool,
}

impl At {
    /// `when == None` never fires (a duration too long to represent).
    pub(super) fn new(when: Option<Instant>) -> At {
        At {
            when,
            taken: AtomicBool::new(false),
        }
    }

    pub(super) fn try_recv(&self) -> Result<Instant, TryRecvError> {
        match self.when {
            Some(when) if Instant::now() >= when && !self.taken.swap(true, Ordering::AcqRel) => {
                Ok(when)
            }
            _ => Err(TryRecvError::Empty),
        }
    }

    pub(super) fn recv(&self, deadline: Option<Instant>) -> Result<Instant, RecvTimeoutError> {
        loop {
            if let Ok(when) = self.try_recv() {
                return Ok(when);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(RecvTimeoutError::Timeout);
            }
            sleep_until(earliest(deadline, self.deadline()));
        }
    }

    /// When the message becomes available, unless it was already taken.
    pub(super) fn deadline(&self) -> Option<Instant> {
        if self.taken.load(Ordering::Acquire) {
            None
        } else {
            self.when
        }
    }

    /// Whether a receive would succeed now.
    pub(super) fn is_ready(&self) -> bool {
        self.deadline().is_some_and(|d| Instant::now() >= d)
    }

    /// Puts a reserved (selected but not completed) message back.
    pub(super) fn release(&self) {
        self.taken.store(false, Ordering::Release);
    }
}
