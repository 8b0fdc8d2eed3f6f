//! The fault handler that recognises a coroutine's guard page, chained in front of whatever
//! handled `SIGSEGV`/`SIGBUS` before (normally std's, which reports a thread's own overflow).
//!
//! The handler runs on an alternate signal stack (a fault on an exhausted stack cannot run a
//! handler on that stack): std gives the threads it spawns one; [`ensure_alt_stack`] makes sure a
//! worker thread has one anyway.

use std::cell::UnsafeCell;
use std::io;
use std::mem::MaybeUninit;
use std::sync::Once;

use super::cvt;

/// Decides whether a fault at `addr` is a coroutine's stack overflow; if it is, it reports it and
/// aborts (never returns). Must be async-signal-safe: no allocation, no locks.
pub(crate) type FaultHandler = fn(addr: usize);

/// The handlers that were installed before ours, one per signal we take over.
struct Previous {
    actions: UnsafeCell<[MaybeUninit<libc::sigaction>; 2]>,
    handler: UnsafeCell<Option<FaultHandler>>,
}

// SAFETY: written once, inside `INSTALL`, before our handler is installed (the `sigaction`
// syscall orders that write before any delivery of the signal); only read afterwards.
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous {
    actions: UnsafeCell::new([MaybeUninit::uninit(), MaybeUninit::uninit()]),
    handler: UnsafeCell::new(None),
};
static INSTALL: Once = Once::new();

const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// Installs `handler` for `SIGSEGV` and `SIGBUS`, once per process; faults it does not claim go
/// to the previous handler.
pub(crate) fn install_fault_handler(handler: FaultHandler) -> io::Result<()> {
    let mut result = Ok(());
    INSTALL.call_once(|| {
        // SAFETY: `call_once` runs this once, before our handler can run: nobody reads
        // `PREVIOUS` concurrently.
        unsafe { *PREVIOUS.handler.get() = Some(handler) };
        for (i, &signal) in SIGNALS.iter().enumerate() {
            // SAFETY: a zeroed sigaction is a valid value (no handler, empty mask, no flags).
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_fault as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            // SAFETY: `actions` is only written here (see above); the pointers are valid for the
            // call.
            let installed = cvt(unsafe {
                let previous = (*PREVIOUS.actions.get())[i].as_mut_ptr();
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, previous)
            });
            if let Err(err) = installed {
                result = Err(err);
                return;
            }
        }
    });
    result
}

extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { fault_address(info) };
    // SAFETY: written before the handler was installed (see `Previous`).
    if let Some(handler) = unsafe { *PREVIOUS.handler.get() } {
        handler(addr);
    }
    // Not a coroutine's guard page: pass it on.
    let Some(i) = SIGNALS.iter().position(|&s| s == signal) else {
        return;
    };
    // SAFETY: initialised by the `sigaction` call that installed this handler.
    let previous = unsafe { (*PREVIOUS.actions.get())[i].assume_init_ref() };
    let target = previous.sa_sigaction;
    if target == libc::SIG_DFL || target == libc::SIG_IGN {
        // Restore the default action and return: the faulting instruction runs again and the
        // process dies of the signal as it would have without us.
        // SAFETY: a zeroed sigaction with SIG_DFL is the default disposition.
        unsafe {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &default, std::ptr::null_mut());
        }
    } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with SA_SIGINFO, so this is its signature.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(target) };
        f(signal, info, context);
    } else {
        // SAFETY: without SA_SIGINFO the handler takes only the signal number.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(target) };
        f(signal);
    }
}

/// The faulting address of a SIGSEGV/SIGBUS.
///
/// # Safety
/// `info` is the siginfo the kernel passed to a SA_SIGINFO handler.
unsafe fn fault_address(info: *mut libc::siginfo_t) -> usize {
    #[cfg(target_os = "linux")]
    // SAFETY: guaranteed by the caller; `si_addr` is valid for SIGSEGV/SIGBUS.
    let addr = unsafe { (*info).si_addr() };
    #[cfg(not(target_os = "linux"))]
    // SAFETY: as above.
    let addr = unsafe { (*info).si_addr };
    addr as usize
}

/// Gives the calling thread an alternate signal stack if it has none.
pub(crate) fn ensure_alt_stack() -> io::Result<()> {
    // SAFETY: a zeroed stack_t is a valid value.
    let mut current: libc::stack_t = unsafe { std::mem::zeroed() };
    // SAFETY: querying with a null new stack only writes `current`.
    cvt(unsafe { libc::sigaltstack(std::ptr::null(), &mut current) })?;
    if current.ss_flags & libc::SS_DISABLE == 0 {
        return Ok(());
    }
    let size = (libc::SIGSTKSZ).max(64 * 1024);
    let page = super::memory::page_size();
    // The thread lives as long as the process (workers never exit), so the stack is leaked.
    let base = super::memory::map(size + page)?;
    super::memory::install_guard(base, page)?;
    let stack = libc::stack_t {
        ss_sp: (base + page) as *mut libc::c_void,
        ss_flags: 0,
        ss_size: size,
    };
    // SAFETY: `stack` describes memory owned by this thread for the rest of the process.
    cvt(unsafe { libc::sigaltstack(&stack, std::ptr::null_mut()) }).map(|_| ())
}

/// Writes `bytes` to stderr with one `write(2)`; async-signal-safe.
pub(crate) fn write_stderr(bytes: &[u8]) {
    // SAFETY: `bytes` is a valid buffer of that length; a short or failed write is ignored (we
    // are about to abort).
    let _ = unsafe { libc::write(libc::STDERR_FILENO, bytes.as_ptr().cast(), bytes.len()) };
}

/// Aborts the process (`SIGABRT`); async-signal-safe.
pub(crate) fn abort() -> ! {
    // SAFETY: abort has no preconditions.
    unsafe { libc::abort() }
}
