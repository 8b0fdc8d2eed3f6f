//! The dump on demand from outside: `kill -USR1 <pid>` prints what every coroutine waits on,
//! as Go prints its goroutines on `SIGQUIT`. Opt-in, with [`dump_on_signal`] or the
//! `MAY_DUMP_SIGNAL` environment variable (read when the runtime starts). Unix only.

use std::io;
use std::sync::Once;

use crate::sys;

/// Environment variable naming the signal to dump on, read when the runtime starts.
const ENV: &str = "MAY_DUMP_SIGNAL";

/// Prints [`print_dump`](super::print_dump)'s report to stderr each time the process receives
/// `signal` (`"SIGUSR1"`, `"SIGUSR2"` or `"SIGQUIT"`; the `SIG` prefix and case are optional),
/// from a thread of its own, while the program runs on. Replaces the signal's previous
/// disposition (`SIGQUIT` no longer ends the process). Calling it again for the same signal
/// changes nothing.
///
/// The same is available without code: `MAY_DUMP_SIGNAL=SIGUSR1` in the environment when the
/// runtime starts.
///
/// # Errors
/// `InvalidInput` for another signal name; `Unsupported` on Windows, which has no such signals
/// (call `print_dump` from the program instead); the OS error if the handler cannot be
/// installed.
///
/// ```
/// # #[cfg(unix)] {
/// may_core::runtime::dump_on_signal("SIGUSR2").unwrap();
/// assert!(may_core::runtime::dump_on_signal("SIGKILL").is_err());
/// # }
/// ```
pub fn dump_on_signal(signal: &str) -> io::Result<()> {
    let number = sys::signal_named(signal)?;
    let (pipe, _already) = sys::notify_on(number)?;
    static DUMPER: Once = Once::new();
    let mut started = Ok(());
    DUMPER.call_once(|| {
        started = std::thread::Builder::new()
            .name("may-dump-signal".into())
            .spawn(move || {
                while pipe.wait().is_ok() {
                    super::print_dump();
                }
            })
            .map(drop);
    });
    started
}

/// Honours `MAY_DUMP_SIGNAL` (called when the runtime starts); a bad value is reported on
/// stderr, like the other `MAY_*` variables.
pub(crate) fn from_env() {
    let Ok(name) = std::env::var(ENV) else {
        return;
    };
    if name.trim().is_empty() {
        return;
    }
    if let Err(err) = dump_on_signal(&name) {
        eprintln!("may: ignoring {ENV}={name:?}: {err}");
    }
}
