//! The link between one I/O source and the driver of the worker it is registered with.

use std::io;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, OnceLock};

use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::driver::{self, DriverHandle};
use super::ScheduledIo;

/// A source's readiness, and its registration with a driver, made on first need.
#[derive(Debug)]
pub(crate) struct IoRegistration {
    io: Arc<ScheduledIo>,
    fd: RawFd,
    /// The driver the source is registered with, once it is.
    driver: OnceLock<Arc<DriverHandle>>,
    /// Serialises the first registration (two tasks may wait on one source at once).
    lock: Mutex<()>,
}

impl IoRegistration {
    /// A not-yet-registered source for `fd`, which must stay open while this value lives.
    pub(crate) fn new(fd: RawFd) -> IoRegistration {
        IoRegistration {
            io: Arc::new(ScheduledIo::new()),
            fd,
            driver: OnceLock::new(),
            lock: Mutex::new(()),
        }
    }

    /// The readiness and wait lists.
    pub(crate) fn io(&self) -> &ScheduledIo {
        &self.io
    }

    /// Registers the source with the calling worker's driver, once. Fails off the workers.
    pub(crate) fn ensure_registered(&self) -> io::Result<()> {
        if self.driver.get().is_some() {
            return Ok(());
        }
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.driver.get().is_some() {
            return Ok(());
        }
        let Some(handle) = driver::current() else {
            return Err(io::Error::other(
                "may: reactor registration outside a worker thread",
            ));
        };
        let raw = Arc::into_raw(Arc::clone(&self.io));
        let token = Token(raw as usize);
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(err) = handle
            .registry
            .register(&mut SourceFd(&self.fd), token, interest)
        {
            // SAFETY: `raw` came from `Arc::into_raw` just above and was not registered, so
            // this is its only owner.
            drop(unsafe { Arc::from_raw(raw) });
            return Err(err);
        }
        if self.driver.set(handle).is_err() {
            unreachable!("set once, under the lock");
        }
        Ok(())
    }
}

impl Drop for IoRegistration {
    fn drop(&mut self) {
        let Some(handle) = self.driver.take() else {
            return;
        };
        if let Err(err) = handle.registry.deregister(&mut SourceFd(&self.fd)) {
            log::warn!("may: deregistering fd {} failed: {err}", self.fd);
        }
        // SAFETY: registration turned one strong reference into the token (`ensure_registered`);
        // it is taken back exactly once, here.
        let token_ref = unsafe { Arc::from_raw(Arc::as_ptr(&self.io)) };
        if driver::is_current(&handle) {
            // Our own driver is not dispatching while a task or destructor runs on its thread.
            drop(token_ref);
        } else {
            handle.defer_release(token_ref);
        }
    }
}
