//! A source together with its readiness and its registration with the driver of the worker it
//! is registered with.
//!
//! [`Registered`] holds the source, its [`ScheduledIo`] and, once a task had to wait on it, the
//! driver it is registered with. The registration is made on first need, once, by whichever
//! thread gets there first.
//!
//! # Platforms
//! - Unix: mio registers the raw descriptor (`mio::unix::SourceFd`); the registration never
//!   touches the source, and operations run on it directly.
//! - Windows: mio's backend (AFD polls on a completion port) registers the mio socket value
//!   itself, keeping its poll state inside it (so registering needs `&mut`), and reports a
//!   direction ready once: it polls again only when an operation run through the value
//!   (`sys::Source::try_io`) returns `WouldBlock`. So the source sits in a `RwLock`: operations
//!   take it shared (they never wait on one another), the registration exclusively, once; and
//!   every operation goes through `try_io`. A short read or write does not re-arm anything
//!   there, so it must not clear the readiness either ([`CLEAR_ON_SHORT_TRANSFER`]).

use std::io;
use std::mem::ManuallyDrop;
use std::sync::{Arc, OnceLock};

use mio::{Interest, Token};

use super::driver::{self, DriverHandle};
use super::ScheduledIo;
use crate::sys::{RawSource, Source};

/// Whether a short transfer on a stream may clear the direction's readiness (see the module
/// docs): it may where readiness is edge-triggered by the kernel itself.
pub(crate) const CLEAR_ON_SHORT_TRANSFER: bool = cfg!(unix);

/// How operations reach the source: directly on Unix, through a shared lock on Windows.
#[cfg(unix)]
pub(crate) type SourceRef<'a, S> = &'a S;
/// How operations reach the source: directly on Unix, through a shared lock on Windows.
#[cfg(windows)]
pub(crate) type SourceRef<'a, S> = std::sync::RwLockReadGuard<'a, S>;

/// An I/O source, its readiness, and its registration once made.
#[derive(Debug)]
pub(crate) struct Registered<S: Source> {
    io: Arc<ScheduledIo>,
    /// The source's descriptor or socket, fixed for its life.
    raw: RawSource,
    /// The driver the source is registered with, once it is.
    driver: OnceLock<Arc<DriverHandle>>,
    /// Serialises the first registration (two tasks may wait on one source at once).
    #[cfg(unix)]
    lock: std::sync::Mutex<()>,
    #[cfg(unix)]
    inner: S,
    #[cfg(windows)]
    inner: std::sync::RwLock<S>,
}

impl<S: Source> Registered<S> {
    /// A not-yet-registered source.
    pub(crate) fn new(inner: S) -> Registered<S> {
        #[cfg(unix)]
        let raw = inner.as_raw_fd();
        #[cfg(windows)]
        let raw = inner.as_raw_socket();
        Registered {
            io: Arc::new(ScheduledIo::new()),
            raw,
            driver: OnceLock::new(),
            #[cfg(unix)]
            lock: std::sync::Mutex::new(()),
            #[cfg(unix)]
            inner,
            #[cfg(windows)]
            inner: std::sync::RwLock::new(inner),
        }
    }

    /// The readiness and wait lists.
    pub(crate) fn io(&self) -> &ScheduledIo {
        &self.io
    }

    /// The source's descriptor or socket.
    pub(crate) fn raw(&self) -> RawSource {
        self.raw
    }

    /// The source, for calls that do not wait (addresses, options).
    #[cfg(unix)]
    pub(crate) fn get(&self) -> SourceRef<'_, S> {
        &self.inner
    }

    /// The source, for calls that do not wait (addresses, options).
    #[cfg(windows)]
    pub(crate) fn get(&self) -> SourceRef<'_, S> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs one operation that may return `WouldBlock` (see the module docs on Windows).
    #[inline]
    pub(crate) fn op<R>(&self, op: impl FnOnce(&S) -> io::Result<R>) -> io::Result<R> {
        let guard = self.get();
        let source: &S = std::ops::Deref::deref(&guard);
        source.try_io(|| op(source))
    }

    /// Registers the source with the calling worker's driver, once. Fails off the workers.
    pub(crate) fn ensure_registered(&self) -> io::Result<()> {
        if self.driver.get().is_some() {
            return Ok(());
        }
        #[cfg(unix)]
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        #[cfg(windows)]
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
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
        #[cfg(unix)]
        let registered =
            handle
                .registry
                .register(&mut mio::unix::SourceFd(&self.raw), token, interest);
        #[cfg(windows)]
        let registered = handle.registry.register(&mut *guard, token, interest);
        if let Err(err) = registered {
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

    /// Deregisters (if registered) and returns the source.
    pub(crate) fn into_inner(self) -> S {
        let mut this = ManuallyDrop::new(self);
        this.deregister();
        // SAFETY: `this` is never used or dropped again, so each field is moved out exactly
        // once: the source is returned, the others are dropped here.
        let inner = unsafe {
            let _io = std::ptr::read(&this.io);
            let _driver = std::ptr::read(&this.driver);
            #[cfg(unix)]
            let _lock = std::ptr::read(&this.lock);
            std::ptr::read(&this.inner)
        };
        unlocked(inner)
    }

    /// Deregisters the source and hands back the token's reference (see "Token invariant" in
    /// the reactor's module docs).
    fn deregister(&mut self) {
        let Some(handle) = self.driver.take() else {
            return;
        };
        #[cfg(unix)]
        let deregistered = handle
            .registry
            .deregister(&mut mio::unix::SourceFd(&self.raw));
        #[cfg(windows)]
        let deregistered = handle.registry.deregister(
            self.inner
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if let Err(err) = deregistered {
            log::warn!("may: deregistering source {:?} failed: {err}", self.raw);
        }
        // SAFETY: registration turned one strong reference into the token (`ensure_registered`);
        // it is taken back exactly once, here (the driver was taken out above).
        let token_ref = unsafe { Arc::from_raw(Arc::as_ptr(&self.io)) };
        if driver::is_current(&handle) {
            // Our own driver is not dispatching while a task or destructor runs on its thread.
            drop(token_ref);
        } else {
            handle.defer_release(token_ref);
        }
    }
}

/// The source out of its holder (see [`SourceRef`]).
#[cfg(unix)]
fn unlocked<S>(inner: S) -> S {
    inner
}

/// The source out of its holder (see [`SourceRef`]).
#[cfg(windows)]
fn unlocked<S>(inner: std::sync::RwLock<S>) -> S {
    inner
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: Source> Drop for Registered<S> {
    fn drop(&mut self) {
        // Before the source's own drop closes it.
        self.deregister();
    }
}
