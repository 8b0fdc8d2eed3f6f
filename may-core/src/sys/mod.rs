//! The few calls that differ per operating system, behind one contract.
//!
//! Every backend provides the same items: the page size, the memory mappings coroutine stacks
//! are carved from (reserve, guard pages, releasing pages), and the fault handler that turns a
//! guard-page hit into a clear stack-overflow report. Everything above this module is portable;
//! raw OS calls live only here (like mio's `sys/`). `valgrind` holds the client requests that
//! tell valgrind about the stacks (per architecture, not per OS).

#[cfg(unix)]
mod unix;
pub(crate) mod valgrind;
#[cfg(unix)]
use unix as imp;

#[cfg(not(unix))]
compile_error!("may supports Unix-like systems (Linux, macOS); other targets are not ported yet");

pub(crate) use imp::memory::{install_guard, page_size, release_pages, Mapping};
pub(crate) use imp::signal::{abort, ensure_alt_stack, install_fault_handler, write_stderr};

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
