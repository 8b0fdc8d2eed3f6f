//! Coroutine-aware I/O on any file descriptor.
