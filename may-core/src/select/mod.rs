//! Selection over several blocking operations.
