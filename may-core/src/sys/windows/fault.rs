//! The fault handler that recognises a coroutine's guard pages: a vectored exception handler,
//! called before any frame-based handler, for every exception of the process.
//!
//! Windows has no alternate signal stack: an exception is dispatched on the stack that faulted.
//! For a coroutine's stack the kernel (or wine) makes room first: it turns the guarantee pages
//! below the stack into plain pages and raises `EXCEPTION_STACK_OVERFLOW` (see `memory.rs`), so
//! the handler runs there. Exceptions it does not claim go on to the next handler (std's reports
//! a thread's own overflow).

use std::io;
use std::sync::{Once, OnceLock};

use windows_sys::Win32::Foundation::{
    EXCEPTION_ACCESS_VIOLATION, EXCEPTION_GUARD_PAGE, EXCEPTION_STACK_OVERFLOW,
};
use windows_sys::Win32::Storage::FileSystem::WriteFile;
use windows_sys::Win32::System::Console::{GetStdHandle, STD_ERROR_HANDLE};
use windows_sys::Win32::System::Diagnostics::Debug::{
    AddVectoredExceptionHandler, EXCEPTION_CONTINUE_SEARCH, EXCEPTION_POINTERS,
};

/// Decides whether a fault at `addr` is a coroutine's stack overflow; if it is, it reports it and
/// aborts (never returns). Must not allocate or lock: it runs on the guarantee pages.
pub(crate) type FaultHandler = fn(addr: usize);

static HANDLER: OnceLock<FaultHandler> = OnceLock::new();
static INSTALL: Once = Once::new();

/// Installs `handler` as the first vectored exception handler, once per process.
pub(crate) fn install_fault_handler(handler: FaultHandler) -> io::Result<()> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        let _ = HANDLER.set(handler);
        // SAFETY: `on_exception` has the signature of a vectored handler and lives as long as
        // the process; it is never removed.
        let cookie = unsafe { AddVectoredExceptionHandler(1, Some(on_exception)) };
        if cookie.is_null() {
            result = Err(io::Error::last_os_error());
        }
    });
    result
}

unsafe extern "system" fn on_exception(info: *mut EXCEPTION_POINTERS) -> i32 {
    // SAFETY: the system passes valid exception pointers for the duration of the call.
    let (record, context) = unsafe { (&*(*info).ExceptionRecord, (*info).ContextRecord) };
    let code = record.ExceptionCode;
    if code != EXCEPTION_STACK_OVERFLOW
        && code != EXCEPTION_ACCESS_VIOLATION
        && code != EXCEPTION_GUARD_PAGE
    {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    let Some(handler) = HANDLER.get() else {
        return EXCEPTION_CONTINUE_SEARCH;
    };
    // Access violations and guard-page faults name the address; a stack overflow names it too
    // (the page that could not become a guard), and its stack pointer is in the guard as well.
    if record.NumberParameters >= 2 {
        handler(record.ExceptionInformation[1]);
    }
    if code == EXCEPTION_STACK_OVERFLOW && !context.is_null() {
        // SAFETY: checked non-null; the context of the faulting thread.
        handler(unsafe { stack_pointer(&*context) });
    }
    EXCEPTION_CONTINUE_SEARCH
}

#[cfg(target_arch = "x86_64")]
fn stack_pointer(context: &windows_sys::Win32::System::Diagnostics::Debug::CONTEXT) -> usize {
    context.Rsp as usize
}

#[cfg(target_arch = "aarch64")]
fn stack_pointer(context: &windows_sys::Win32::System::Diagnostics::Debug::CONTEXT) -> usize {
    context.Sp as usize
}

/// Nothing to do on Windows: the handler runs on the faulting stack's guarantee pages.
pub(crate) fn ensure_alt_stack() -> io::Result<()> {
    Ok(())
}

/// Writes `bytes` to stderr with one `WriteFile`; allocates nothing.
pub(crate) fn write_stderr(bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    let mut written = 0;
    // SAFETY: `bytes` is valid for `len` bytes and `written` for a write; a missing or failed
    // stderr is ignored (we are about to abort).
    unsafe {
        let handle = GetStdHandle(STD_ERROR_HANDLE);
        let _ = WriteFile(
            handle,
            bytes.as_ptr(),
            len,
            &mut written,
            std::ptr::null_mut(),
        );
    }
}

/// Aborts the process (a fail-fast exit, status `0xC0000409`).
pub(crate) fn abort() -> ! {
    std::process::abort()
}
