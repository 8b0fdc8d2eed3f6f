//! The Windows backend. Every Win32 call's result goes through [`cvt`] or [`cvt_ptr`]; each call
//! site keeps its own `unsafe` block and says why its arguments are valid.

use std::io;

use windows_sys::core::BOOL;

/// Turns a Win32 `BOOL` result (zero: failure) into the thread's last error.
pub(crate) fn cvt(result: BOOL) -> io::Result<()> {
    if result == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Turns a Win32 pointer result (null: failure) into the thread's last error.
pub(crate) fn cvt_ptr<T>(result: *mut T) -> io::Result<*mut T> {
    if result.is_null() {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

pub(crate) mod descriptor;
pub(crate) mod fault;
pub(crate) mod memory;
pub(crate) mod net;
pub(crate) mod signal;
