//! Stack overflow: a coroutine that runs past its stack touches the guard page below it. The
//! fault handler recognises the running coroutine's guard page, prints one line naming the
//! coroutine and its stack size, and aborts, as a std thread or a Go program does. Continuing
//! would be unsound: the coroutine's destructors never ran and its locks are still held.
//!
//! Any other fault goes to the handler installed before ours (std's reports a thread's own stack
//! overflow; without one the process dies of the signal as usual).

use std::fmt::Write;

use super::with_current;
use crate::sys;

/// Installs the fault handler (once per process).
pub(crate) fn install() -> std::io::Result<()> {
    sys::install_fault_handler(on_fault)
}

/// Runs inside the signal handler: no allocation, no locks.
fn on_fault(addr: usize) {
    with_current(|co| {
        let Some(co) = co else { return };
        let (start, end) = co.guard();
        if addr < start || addr >= end {
            return;
        }
        let mut line = Line::default();
        let _ = write!(line, "may: coroutine #{}", co.id);
        if let Some(name) = &co.name {
            let _ = write!(line, " {name:?}");
        }
        let _ = writeln!(
            line,
            " has overflowed its stack of {} bytes; give it a larger one with \
             Builder::stack_size, go!(stack = ..), #[may::coroutine(stack = ..)] or \
             MAY_STACK_SIZE (see docs/stack.md)",
            co.stack_size
        );
        sys::write_stderr(line.as_bytes());
        sys::abort();
    });
}

/// A fixed buffer for one line, formatted without allocating; what does not fit is cut.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Default for Line {
    fn default() -> Line {
        Line {
            buf: [0; 512],
            len: 0,
        }
    }
}

impl Line {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = self.buf.len() - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}
