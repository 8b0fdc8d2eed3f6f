//! Platform-specific networking: Unix domain sockets (on Unix only).

#[cfg(unix)]
pub mod unix;
