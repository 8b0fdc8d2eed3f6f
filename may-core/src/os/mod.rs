//! Platform-specific networking (Unix domain sockets).

pub mod unix;
