//! The Unix backend (Linux, macOS). Every libc call's result goes through [`cvt`]; each call
//! site keeps its own `unsafe` block and says why its arguments are valid.

use std::io;

/// Turns the `-1` error return of a libc call into the thread's `io::Error`.
pub(crate) fn cvt<T: IsMinusOne>(result: T) -> io::Result<T> {
    if result.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// Integer results whose `-1` means failure.
pub(crate) trait IsMinusOne: Copy {
    fn is_minus_one(self) -> bool;
}

impl IsMinusOne for i32 {
    fn is_minus_one(self) -> bool {
        self == -1
    }
}

impl IsMinusOne for isize {
    fn is_minus_one(self) -> bool {
        self == -1
    }
}

impl IsMinusOne for i64 {
    fn is_minus_one(self) -> bool {
        self == -1
    }
}

pub(crate) mod descriptor;
pub(crate) mod fault;
pub(crate) mod memory;
pub(crate) mod net;
pub(crate) mod signal;
