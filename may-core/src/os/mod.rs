//! Platform-specific networking (Unix domain sockets).
