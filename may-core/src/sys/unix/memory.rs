//! Memory for coroutine stacks: large private mappings that reserve no swap, guard pages inside
//! them, and handing touched pages back to the kernel.
//!
//! A guard page is made with `madvise(MADV_GUARD_INSTALL)` where the kernel has it (Linux 6.13+):
//! the page faults on access but the mapping is not split, so a million stacks cost a few dozen
//! memory mappings. Elsewhere (older kernels, macOS) it is an `mprotect(PROT_NONE)` page, which
//! splits the mapping: two mappings per stack, so Linux's `vm.max_map_count` (65530 by default)
//! caps a process near 32,000 stacks. `MAY_STACK_GUARD=mprotect` forces the second way (tests),
//! and so does running under valgrind.

use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use super::cvt;

/// The system page size in bytes.
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions and only reads system configuration.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        usize::try_from(n)
            .ok()
            .filter(|n| n.is_power_of_two())
            .unwrap_or(4096)
    })
}

/// A private, anonymous, read-write mapping that reserves no swap space: only the pages that are
/// touched cost memory. Unmapped when dropped.
#[derive(Debug)]
pub(crate) struct Mapping {
    addr: usize,
    len: usize,
}

impl Mapping {
    /// Maps `len` bytes (a multiple of the page size).
    pub(crate) fn new(len: usize) -> io::Result<Mapping> {
        #[cfg(target_os = "linux")]
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        #[cfg(not(target_os = "linux"))]
        let flags = libc::MAP_PRIVATE | libc::MAP_ANON;
        // SAFETY: an anonymous mapping at an address of the kernel's choosing touches no existing
        // memory; the result is checked before use.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            addr: addr as usize,
            len,
        })
    }

    /// The lowest address of the mapping.
    pub(crate) fn addr(&self) -> usize {
        self.addr
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the range is exactly the mapping `new` created and nobody uses it any more
        // (its owner drops it only once every stack carved from it is back).
        let unmapped = cvt(unsafe { libc::munmap(self.addr as *mut libc::c_void, self.len) });
        if let Err(err) = unmapped {
            log::error!("may: unmapping {} stack bytes failed: {err}", self.len);
        }
    }
}

/// How guard pages are made in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GuardKind {
    /// `MADV_GUARD_INSTALL` markers: no extra memory mapping per stack.
    Marker,
    /// `mprotect(PROT_NONE)` pages: the mapping is split around every guard.
    Protected,
}

const UNDECIDED: u8 = 0;
const MARKER: u8 = 1;
const PROTECTED: u8 = 2;

/// Linux's `MADV_GUARD_INSTALL` (6.13+); older kernels answer `EINVAL`.
#[cfg(target_os = "linux")]
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// The guard kind chosen for this process, decided by the first guard installed.
static GUARD_KIND: AtomicU8 = AtomicU8::new(UNDECIDED);

/// `mprotect` guards were asked for, or the process runs under valgrind, which does not know
/// guard markers: it takes such a page for ordinary memory, and when it reads one itself (to
/// describe an address or walk a stack) the fault ends the run as an internal error.
fn forced_protect() -> bool {
    std::env::var("MAY_STACK_GUARD").is_ok_and(|v| v.eq_ignore_ascii_case("mprotect"))
        || crate::sys::valgrind::running_on_valgrind()
}

/// Makes `[addr, addr + len)` (whole pages inside a [`Mapping`]) fault on any access.
pub(crate) fn install_guard(addr: usize, len: usize) -> io::Result<GuardKind> {
    let mut kind = GUARD_KIND.load(Ordering::Relaxed);
    if kind == UNDECIDED {
        kind = if forced_protect() || cfg!(not(target_os = "linux")) {
            PROTECTED
        } else {
            MARKER
        };
    }
    #[cfg(target_os = "linux")]
    if kind == MARKER {
        // SAFETY: the range lies inside a mapping we own and holds no live data.
        match cvt(unsafe { libc::madvise(addr as *mut libc::c_void, len, MADV_GUARD_INSTALL) }) {
            Ok(_) => {
                GUARD_KIND.store(MARKER, Ordering::Relaxed);
                return Ok(GuardKind::Marker);
            }
            // A kernel without guard markers: use protected pages from now on.
            Err(err) if err.raw_os_error() == Some(libc::EINVAL) => kind = PROTECTED,
            Err(err) => return Err(err),
        }
    }
    debug_assert_eq!(kind, PROTECTED);
    // SAFETY: as above; the pages become inaccessible, which is the point.
    cvt(unsafe { libc::mprotect(addr as *mut libc::c_void, len, libc::PROT_NONE) })?;
    GUARD_KIND.store(PROTECTED, Ordering::Relaxed);
    Ok(GuardKind::Protected)
}

/// Gives the pages of `[addr, addr + len)` back to the kernel: they read as zero afterwards and
/// cost no memory until touched again. Guard pages in the range stay guards.
pub(crate) fn release_pages(addr: usize, len: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    let advice = libc::MADV_DONTNEED;
    // macOS frees `MADV_DONTNEED` pages lazily; `MADV_FREE` is the same promise, said plainly.
    #[cfg(not(target_os = "linux"))]
    let advice = libc::MADV_FREE;
    // SAFETY: the range lies inside a mapping we own, and its owner no longer uses its contents.
    cvt(unsafe { libc::madvise(addr as *mut libc::c_void, len, advice) }).map(|_| ())
}
