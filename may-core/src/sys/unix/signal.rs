//! Signals that ask the runtime for something (a dump), delivered to a thread of ours.
//!
//! The handler only writes a byte to a pipe (`write` is async-signal-safe); a thread blocked
//! reading the other end does the work in ordinary code (the self-pipe trick).

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use super::cvt;

/// The signals a program may ask for, by name: the two left to applications, and the one Go
/// dumps its goroutines on.
const NAMED: [(&str, libc::c_int); 3] = [
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGQUIT", libc::SIGQUIT),
];

/// The write end of the notification pipe (-1 until the first handler is installed).
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
/// The read end, and the signals handled so far.
static STATE: Mutex<(i32, Vec<libc::c_int>)> = Mutex::new((-1, Vec::new()));

/// The signal called `name` (`SIGUSR1`, `USR1`, `usr1`, ...).
pub(crate) fn signal_named(name: &str) -> io::Result<libc::c_int> {
    let upper = name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    NAMED
        .iter()
        .find(|(n, _)| *n == full)
        .map(|&(_, signal)| signal)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{name:?} is not one of the signals may can dump on: SIGUSR1, SIGUSR2, SIGQUIT"
                ),
            )
        })
}

/// A readable end that yields one byte per delivered signal (see [`notify_on`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignalPipe(i32);

impl SignalPipe {
    /// Blocks until a signal arrives (a byte is there to read).
    pub(crate) fn wait(self) -> io::Result<()> {
        let mut byte = 0u8;
        loop {
            // SAFETY: reads at most one byte into `byte`, which lives across the call.
            let n = unsafe { libc::read(self.0, (&mut byte as *mut u8).cast(), 1) };
            match cvt(n) {
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }
}

/// Makes `signal` write a byte to the notification pipe (created on first use), replacing the
/// signal's previous disposition. Returns the pipe's read end, and whether `signal` was already
/// handled (then nothing changed).
pub(crate) fn notify_on(signal: libc::c_int) -> io::Result<(SignalPipe, bool)> {
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if state.0 < 0 {
        let mut fds = [0i32; 2];
        // SAFETY: `fds` has room for the two descriptors `pipe` writes.
        cvt(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
        for (fd, flags) in [(fds[0], 0), (fds[1], libc::O_NONBLOCK)] {
            // SAFETY: plain fcntl calls on descriptors we just created.
            unsafe {
                cvt(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC))?;
                let status = cvt(libc::fcntl(fd, libc::F_GETFL))?;
                cvt(libc::fcntl(fd, libc::F_SETFL, status | flags))?;
            }
        }
        state.0 = fds[0];
        PIPE_WRITE.store(fds[1], Ordering::Release);
    }
    let read_end = SignalPipe(state.0);
    if state.1.contains(&signal) {
        return Ok((read_end, true));
    }
    // SAFETY: a zeroed sigaction is a valid value (no handler, empty mask, no flags).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: installs a handler that only does async-signal-safe work (see `on_signal`).
    cvt(unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) })?;
    state.1.push(signal);
    Ok((read_end, false))
}

extern "C" fn on_signal(_signal: libc::c_int) {
    let fd = PIPE_WRITE.load(Ordering::Acquire);
    if fd < 0 {
        return;
    }
    // SAFETY: `errno` is thread-local; the handler restores the interrupted code's value.
    let saved = unsafe { *errno() };
    let byte = 1u8;
    // SAFETY: `write` is async-signal-safe; a full pipe (a dump already pending) just fails.
    let _ = unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    // SAFETY: as above.
    unsafe { *errno() = saved };
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn errno() -> *mut libc::c_int {
    // SAFETY: returns the calling thread's errno location; always valid.
    unsafe { libc::__errno_location() }
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
fn errno() -> *mut libc::c_int {
    // SAFETY: returns the calling thread's errno location; always valid.
    unsafe { libc::__error() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_or_without_the_prefix() {
        assert_eq!(signal_named("SIGUSR1").unwrap(), libc::SIGUSR1);
        assert_eq!(signal_named("usr2").unwrap(), libc::SIGUSR2);
        assert_eq!(signal_named(" QUIT ").unwrap(), libc::SIGQUIT);
        let err = signal_named("SIGKILL").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("SIGUSR1, SIGUSR2, SIGQUIT"),
            "{err}"
        );
    }
}
