//! Memory for coroutine stacks on Windows: one reservation per slab, each stack committed when
//! its slot is first used, and guard pages laid out the way Windows' own stack-overflow handling
//! expects them.
//!
//! A slot, from its lowest address up:
//! ```text
//! hard guard     1 page     reserved only: any access faults    <- TEB.DeallocationStack
//! guarantee      4 pages    committed, PAGE_GUARD
//! soft guard     2 pages    committed, PAGE_GUARD
//! usable stack              committed, read-write               <- TEB.StackLimit .. StackBase
//! ```
//! corosensei switches the thread's TEB stack fields to these values (`Stack::teb_fields`). A
//! touch of a `PAGE_GUARD` page inside the TEB's stack makes the kernel (or wine) grow the stack
//! by a page or, once the guard pages left are no more than the guarantee, turn them into plain
//! pages and raise `EXCEPTION_STACK_OVERFLOW`: the fault handler (`fault.rs`) then runs on those
//! pages. That is Windows' replacement for an alternate signal stack. The hard guard catches a
//! handler that overflows in turn. Unlike Linux's `MAP_NORESERVE`, committed memory counts
//! against the system's commit limit (RAM plus page file) even while it is not resident.

use std::io;
use std::sync::OnceLock;

use windows_sys::Win32::System::Memory::{
    VirtualAlloc, VirtualFree, MEM_COMMIT, MEM_DECOMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_GUARD,
    PAGE_NOACCESS, PAGE_PROTECTION_FLAGS, PAGE_READWRITE,
};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};

use super::{cvt, cvt_ptr};

/// Reserved-only pages at the bottom of a slot.
const HARD_GUARD_PAGES: usize = 1;
/// `PAGE_GUARD` pages kept for the overflow handler (the TEB's `GuaranteedStackBytes`).
const GUARANTEE_PAGES: usize = 4;
/// `PAGE_GUARD` pages right below the usable stack (two on 64-bit Windows, as for threads).
const SOFT_GUARD_PAGES: usize = 2;

/// The system page size in bytes.
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: a zeroed SYSTEM_INFO is a valid value; GetSystemInfo only writes it.
        let mut info: SYSTEM_INFO = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid for writes.
        unsafe { GetSystemInfo(&mut info) };
        usize::try_from(info.dwPageSize)
            .ok()
            .filter(|n| n.is_power_of_two())
            .unwrap_or(4096)
    })
}

/// Bytes of guard below each stack (see the module docs).
pub(crate) fn guard_size() -> usize {
    (HARD_GUARD_PAGES + GUARANTEE_PAGES + SOFT_GUARD_PAGES) * page_size()
}

/// Bytes of stack the overflow handler is guaranteed (the TEB's `GuaranteedStackBytes`).
pub(crate) fn stack_guarantee() -> usize {
    GUARANTEE_PAGES * page_size()
}

/// Whether [`release_pages`] may be given a range that spans the guard pages between
/// neighbouring stacks: not here (it decommits and recommits read-write, guards included).
pub(crate) const RELEASE_SPANS_GUARDS: bool = false;

/// Reserves `len` bytes (a multiple of the page size) of address space; its pages are
/// inaccessible until [`carve_stack`] commits them. Returns the address.
pub(crate) fn map(len: usize) -> io::Result<usize> {
    // SAFETY: a reservation at an address of the system's choosing touches no existing memory;
    // the result is checked.
    let addr = cvt_ptr(unsafe { VirtualAlloc(std::ptr::null(), len, MEM_RESERVE, PAGE_NOACCESS) })?;
    Ok(addr as usize)
}

/// Releases what [`map`] reserved (and everything committed in it).
///
/// # Safety
/// `addr` is a reservation made by [`map`], and nobody uses it any more.
pub(crate) unsafe fn unmap(addr: usize, _len: usize) -> io::Result<()> {
    // SAFETY: guaranteed by the caller.
    cvt(unsafe { VirtualFree(addr as *mut _, 0, MEM_RELEASE) })
}

fn commit(addr: usize, len: usize, protect: PAGE_PROTECTION_FLAGS) -> io::Result<()> {
    // SAFETY: the range lies inside a reservation we own and holds no live data.
    cvt_ptr(unsafe { VirtualAlloc(addr as *const _, len, MEM_COMMIT, protect) }).map(|_| ())
}

/// Prepares one stack slot of a [`Mapping`](crate::sys::Mapping): `[guard, guard + guard_len)` becomes its guard
/// (see the module docs) and the `stack_len` bytes above it its usable stack.
pub(crate) fn carve_stack(guard: usize, guard_len: usize, stack_len: usize) -> io::Result<()> {
    let hard = HARD_GUARD_PAGES * page_size();
    commit(guard + hard, guard_len - hard, PAGE_READWRITE | PAGE_GUARD)
        .and_then(|()| commit(guard + guard_len, stack_len, PAGE_READWRITE))
        .map_err(|err| {
            io::Error::new(
                io::ErrorKind::OutOfMemory,
                format!(
                    "failed to commit {} bytes for a coroutine stack ({err}): Windows counts \
                     each stack (and its guard pages) against the commit limit, RAM plus page \
                     file; use smaller stacks or fewer live coroutines",
                    guard_len - hard + stack_len
                ),
            )
        })
}

/// Gives the pages of `[addr, addr + len)` (usable stack only, see [`RELEASE_SPANS_GUARDS`])
/// back to the system: decommitted and committed again, they read as zero and cost no memory
/// until touched.
pub(crate) fn release_pages(addr: usize, len: usize) -> io::Result<()> {
    // SAFETY: the range lies inside a reservation we own, and its owner no longer uses its
    // contents.
    cvt(unsafe { VirtualFree(addr as *mut _, len, MEM_DECOMMIT) })?;
    if let Err(err) = commit(addr, len, PAGE_READWRITE) {
        // The stack is handed out again as if whole: a hole in it would be taken for an
        // overflow, or worse. The commit was ours a moment ago; losing it means the system is
        // out of memory, which Rust answers with an abort too.
        eprintln!(
            "may: cannot commit {len} bytes of coroutine stack again after releasing them: {err}"
        );
        std::process::abort();
    }
    Ok(())
}
