//! Signals that ask the runtime for something (a dump): Unix only. Windows has no such signals;
//! a program there calls `runtime::print_dump()` itself (from a debug endpoint, say).

use std::io;

/// Windows has no signals to dump on.
pub(crate) fn signal_named(name: &str) -> io::Result<i32> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        format!(
            "dumping on a signal ({name:?}) needs Unix signals; on Windows call \
             may::runtime::print_dump() from the program"
        ),
    ))
}

/// Never built on Windows (see [`signal_named`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignalPipe(());

impl SignalPipe {
    /// Never called: no `SignalPipe` exists on Windows.
    pub(crate) fn wait(self) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Never succeeds on Windows.
pub(crate) fn notify_on(_signal: i32) -> io::Result<(SignalPipe, bool)> {
    Err(io::ErrorKind::Unsupported.into())
}
