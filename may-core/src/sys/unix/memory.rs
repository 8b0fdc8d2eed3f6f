//! Memory for coroutine stacks: large private mappings that reserve no swap, guard pages inside
//! them, and handing touched pages back to the kernel.
//!
//! A guard page is made with `madvise(MADV_GUARD_INSTALL)` where the kernel has it (Linux 6.13+):
//! the page faults on access but the mapping is not split, so a million stacks cost a few dozen
//! memory mappings. Elsewhere (older kernels, macOS) it is an `mprotect(PROT_NONE)` page, which
//! splits the mapping: two mappings per stack, so Linux's `vm.max_map_count` (65530 by default)
//! caps a process near 32,000 stacks. `MAY_STACK_GUARD=mprotect` forces the second way (tests),
//! and so does running under valgrind.
//!
//! The first marker installed is checked: a one-byte `write(2)` from the guarded page into a pipe
//! must fail with `EFAULT`. An emulator that accepts the advice without honouring it (qemu-user
//! passes only the `madvise` advice it knows to the host and answers 0 to the rest) would
//! otherwise leave every stack without a guard; there the `mprotect` pages are used instead.

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

/// Bytes of guard below each stack: one page, which faults on any access.
pub(crate) fn guard_size() -> usize {
    page_size()
}

/// Whether [`release_pages`] may be given a range that spans the guard pages between
/// neighbouring stacks: here it may (guards stay guards).
pub(crate) const RELEASE_SPANS_GUARDS: bool = true;

/// Maps `len` bytes (a multiple of the page size) for stacks: private, anonymous, read-write,
/// reserving no swap space (only the pages that are touched cost memory). Returns the address.
pub(crate) fn map(len: usize) -> io::Result<usize> {
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
    Ok(addr as usize)
}

/// Unmaps what [`map`] mapped.
///
/// # Safety
/// `[addr, addr + len)` is exactly one mapping made by [`map`], and nobody uses it any more.
pub(crate) unsafe fn unmap(addr: usize, len: usize) -> io::Result<()> {
    // SAFETY: guaranteed by the caller.
    cvt(unsafe { libc::munmap(addr as *mut libc::c_void, len) }).map(|_| ())
}

// How guard pages are made in this process: not decided yet, `MADV_GUARD_INSTALL` markers (no
// extra memory mapping per stack), or `mprotect(PROT_NONE)` pages (the mapping is split around
// every guard).
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

/// Prepares one stack slot of a [`Mapping`](crate::sys::Mapping): `[guard, guard + guard_len)` becomes its guard
/// (see [`guard_size`]) and the `stack_len` bytes above it its usable stack (already readable
/// and writable here). Fails with an error that says which limit was hit.
pub(crate) fn carve_stack(guard: usize, guard_len: usize, _stack_len: usize) -> io::Result<()> {
    install_guard(guard, guard_len).map_err(guard_error)
}

fn guard_error(err: io::Error) -> io::Error {
    let max_maps = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok());
    let hint = match max_maps {
        Some(limit) => format!(
            "with mprotect guard pages (kernels before Linux 6.13, or MAY_STACK_GUARD=mprotect) \
             each coroutine stack is two memory mappings and vm.max_map_count is {limit} \
             (about {} live coroutines); raise it with `sysctl vm.max_map_count=N` or use \
             fewer live coroutines",
            limit / 2
        ),
        None => "the process may have hit its memory-mapping limit".to_string(),
    };
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        format!("failed to make the guard page of a coroutine stack ({err}): {hint}"),
    )
}

/// Makes `[addr, addr + len)` (whole pages inside a [`Mapping`](crate::sys::Mapping)) fault on any access.
pub(crate) fn install_guard(addr: usize, len: usize) -> io::Result<()> {
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
            // The first marker is checked (see the module docs); later ones are trusted.
            Ok(_) if GUARD_KIND.load(Ordering::Relaxed) == MARKER || marker_faults(addr) => {
                GUARD_KIND.store(MARKER, Ordering::Relaxed);
                return Ok(());
            }
            // Accepted but not honoured: protected pages from now on (this one included).
            Ok(_) => kind = PROTECTED,
            // A kernel without guard markers: use protected pages from now on.
            Err(err) if err.raw_os_error() == Some(libc::EINVAL) => kind = PROTECTED,
            Err(err) => return Err(err),
        }
    }
    debug_assert_eq!(kind, PROTECTED);
    // SAFETY: as above; the pages become inaccessible, which is the point.
    cvt(unsafe { libc::mprotect(addr as *mut libc::c_void, len, libc::PROT_NONE) })?;
    GUARD_KIND.store(PROTECTED, Ordering::Relaxed);
    Ok(())
}

/// Whether the page at `addr`, just given a guard marker, really faults: the kernel reads it for a
/// one-byte pipe write, which fails with `EFAULT` on a guard. When no pipe can be made the marker
/// is trusted.
#[cfg(target_os = "linux")]
fn marker_faults(addr: usize) -> bool {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }).is_err() {
        return true;
    }
    // SAFETY: a write only reads from the buffer; the kernel checks the address itself and
    // answers EFAULT for an inaccessible page, which is what we ask.
    let written = cvt(unsafe { libc::write(fds[1], addr as *const libc::c_void, 1) });
    for fd in fds {
        // SAFETY: both descriptors were just created here and are closed once.
        unsafe { libc::close(fd) };
    }
    matches!(written, Err(err) if err.raw_os_error() == Some(libc::EFAULT))
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
