//! Valgrind client requests: what the runtime tells valgrind about the stacks it switches
//! between, so that `valgrind --tool=memcheck` checks may's own code instead of reporting its
//! stack switches (`.ci/run` runs the cancellation, scope and select tests under it).
//!
//! A client request is a fixed sequence of rotations that leaves the register unchanged,
//! followed by an instruction that is a no-op on the CPU; valgrind recognises the sequence and
//! answers in the result register (documented in valgrind's `valgrind.h`; corosensei registers
//! its own stacks the same way). Outside valgrind each call costs a handful of instructions and
//! returns the default. On architectures without a sequence here the calls do nothing.

/// `VG_USERREQ__RUNNING_ON_VALGRIND`.
// Asked only by the Unix stack memory (valgrind does not run Windows programs) and the tests.
#[cfg_attr(windows, allow(dead_code))]
const RUNNING_ON_VALGRIND: usize = 0x1001;
/// `VG_USERREQ__STACK_REGISTER` / `_DEREGISTER`.
const STACK_REGISTER: usize = 0x1501;
const STACK_DEREGISTER: usize = 0x1502;
/// memcheck's `VG_USERREQ__MAKE_MEM_DEFINED`: its tool base ('M', 'C') plus 2.
const MAKE_MEM_DEFINED: usize = (((b'M' as usize) << 24) | ((b'C' as usize) << 16)) + 2;

/// Sends `request` with `args` to valgrind; `default` when not running under it.
#[inline(always)]
fn client_request(default: usize, request: usize, args: [usize; 5]) -> usize {
    let block = [request, args[0], args[1], args[2], args[3], args[4]];
    #[cfg(target_arch = "x86_64")]
    {
        let result;
        // SAFETY: the rotations sum to 128 bits, so `rdi` is unchanged, and `xchg rbx, rbx`
        // changes nothing: on a CPU this only moves `default` into `rdx`. Under valgrind the
        // request reads `block` (alive for the whole statement) and writes the answer to `rdx`.
        unsafe {
            std::arch::asm!(
                "rol rdi, 3",
                "rol rdi, 13",
                "rol rdi, 61",
                "rol rdi, 51",
                "xchg rbx, rbx",
                inout("rdx") default => result,
                in("rax") block.as_ptr(),
                options(nostack),
            );
        }
        result
    }
    #[cfg(target_arch = "aarch64")]
    {
        let result;
        // SAFETY: as above: the rotations of `x12` sum to 128 bits and `orr x10, x10, x10`
        // changes nothing, so on a CPU `x3` keeps `default`; valgrind reads `block` through
        // `x4` and answers in `x3`.
        unsafe {
            std::arch::asm!(
                "ror x12, x12, #3",
                "ror x12, x12, #13",
                "ror x12, x12, #51",
                "ror x12, x12, #61",
                "orr x10, x10, x10",
                inout("x3") default => result,
                in("x4") block.as_ptr(),
                options(nostack),
            );
        }
        result
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = block;
        default
    }
}

/// Whether the process runs under valgrind.
#[cfg_attr(windows, allow(dead_code))]
pub(crate) fn running_on_valgrind() -> bool {
    client_request(0, RUNNING_ON_VALGRIND, [0; 5]) != 0
}

/// Tells memcheck that `[addr, addr + len)` holds defined values that may be read: for the
/// runtime's own reads of a finished coroutine's stack, whose frames memcheck marked
/// inaccessible as they returned.
#[inline]
pub(crate) fn make_mem_defined(addr: usize, len: usize) {
    client_request(0, MAKE_MEM_DEFINED, [addr, len, 0, 0, 0]);
}

/// A coroutine stack `[bottom, top)` registered with valgrind for as long as this value lives,
/// so that a jump of the stack pointer into or out of it is taken as a stack switch, not as a
/// huge frame (which memcheck would mark as allocated or freed, whatever lies between).
#[derive(Debug)]
pub(crate) struct StackRegistration {
    id: usize,
}

impl StackRegistration {
    #[inline]
    pub(crate) fn new(bottom: usize, top: usize) -> StackRegistration {
        StackRegistration {
            // Valgrind takes the lowest and the highest addressable byte.
            id: client_request(0, STACK_REGISTER, [bottom, top - 1, 0, 0, 0]),
        }
    }
}

impl Drop for StackRegistration {
    #[inline]
    fn drop(&mut self) {
        client_request(0, STACK_DEREGISTER, [self.id, 0, 0, 0, 0]);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #[test]
    fn requests_are_no_ops_outside_valgrind() {
        if super::running_on_valgrind() {
            return;
        }
        let word = 7usize;
        super::make_mem_defined(&word as *const usize as usize, 8);
        drop(super::StackRegistration::new(0x1000, 0x2000));
        assert_eq!(word, 7);
    }
}
