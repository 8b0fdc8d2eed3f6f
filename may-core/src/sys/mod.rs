//! The few calls that differ per operating system, behind one contract.
//!
//! Every backend provides the same items:
//! - memory for coroutine stacks: the page size, the guard below each stack, reservations
//!   ([`Mapping`]) that stacks are carved from ([`carve_stack`]), and handing touched pages back
//!   ([`release_pages`]);
//! - the fault handler that turns a guard-page hit into a clear stack-overflow report;
//! - sockets: raw handles, non-blocking creation, listener options, waiting on one socket from a
//!   plain thread, and what the reactor needs of an I/O source ([`Source`]);
//! - [`Descriptor`], what `CoIo` wraps: any file descriptor on Unix, any socket on Windows;
//! - signals that ask for a dump ([`notify_on`]): Unix only.
//!
//! Everything above this module is portable; raw OS calls live only here (like mio's `sys/`).
//! Unix (`unix/`) serves Linux and macOS; Windows (`windows/`) is its own backend. `valgrind`
//! holds the client requests that tell valgrind about the stacks (per architecture, not per OS).

#[cfg(unix)]
mod unix;
pub(crate) mod valgrind;
#[cfg(unix)]
use unix as imp;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(not(any(unix, windows)))]
compile_error!(
    "may supports Unix-like systems (Linux, macOS) and Windows; this target is not ported"
);

pub(crate) use imp::descriptor::{AsDescriptor, Descriptor};
pub(crate) use imp::fault::{abort, ensure_alt_stack, install_fault_handler, write_stderr};
#[cfg(windows)]
pub(crate) use imp::memory::stack_guarantee;
pub(crate) use imp::memory::{
    carve_stack, guard_size, page_size, release_pages, RELEASE_SPANS_GUARDS,
};
pub(crate) use imp::net::{
    connect_in_progress, nonblocking_socket, out_of_resources, poll_one, set_listener_options,
    socket_addresses, source_number, RawSource, Source,
};
pub(crate) use imp::signal::{notify_on, signal_named};

/// Whether a listener shares its port with other listeners ([`set_listener_options`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortSharing {
    /// The port is this listener's alone.
    Exclusive,
    /// `SO_REUSEPORT`: listeners bound this way share the port, and the kernel spreads new
    /// connections over them (Unix only).
    ReusePort,
}

/// What [`poll_one`] waits for on a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollFor {
    /// Data to read, a connection to accept, or the peer's close.
    Readable,
    /// Room to write, or a finished connect.
    Writable,
}

/// Memory that coroutine stacks are carved from ([`carve_stack`]): a mapping that costs nothing
/// until touched on Unix, a reservation of address space on Windows. Unmapped when dropped.
#[derive(Debug)]
pub(crate) struct Mapping {
    addr: usize,
    len: usize,
}

impl Mapping {
    /// Maps (reserves) `len` bytes, a multiple of the page size.
    pub(crate) fn new(len: usize) -> std::io::Result<Mapping> {
        imp::memory::map(len).map(|addr| Mapping { addr, len })
    }

    /// The lowest address.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is exactly what `new` mapped, and nobody uses it any more (its owner
        // drops it only once every stack carved from it is back).
        if let Err(err) = unsafe { imp::memory::unmap(self.addr, self.len) } {
            log::error!("may: unmapping {} stack bytes failed: {err}", self.len);
        }
    }
}

/// Asks the CPU to bring the cache line at `addr` into its caches; a hint that never faults,
/// whatever the address.
#[inline(always)]
pub(crate) fn prefetch(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` only hints the cache hierarchy: it reads no memory architecturally and
    // never faults, even on an unmapped address.
    unsafe {
        std::arch::asm!("prefetcht0 [{0}]", in(reg) addr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `prfm` is a hint as well: no architectural read, no fault.
    unsafe {
        std::arch::asm!("prfm pldl1keep, [{0}]", in(reg) addr, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let _ = addr;
}
