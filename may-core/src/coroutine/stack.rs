//! Stack sizes (always bytes in the public API), their parsing and validation, and the creation
//! of `generator` stacks, which take their size in machine words.

use std::io;
use std::panic::{self, AssertUnwindSafe};

use generator::{Generator, Gn};

/// The generator type every coroutine runs on.
pub(crate) type Gen = Generator<'static, (), ()>;

/// Default coroutine stack size: 32 KiB.
pub const DEFAULT_STACK_SIZE: usize = 32 * 1024;
/// Largest stack a coroutine may ask for: 1 GiB.
pub const MAX_STACK_SIZE: usize = 1 << 30;
/// Smallest stack handed out; smaller requests are rounded up to it.
pub const MIN_STACK_SIZE: usize = 4 * 1024;

const WORD: usize = std::mem::size_of::<usize>();

/// The system page size in bytes.
pub(crate) fn page_size() -> usize {
    static PAGE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions and only reads system configuration.
        let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if n > 0 {
            n as usize
        } else {
            4096
        }
    })
}

/// Rounds a requested stack size up to whole pages, at least [`MIN_STACK_SIZE`].
pub(crate) fn round_stack_size(bytes: usize) -> usize {
    let page = page_size();
    let bytes = bytes.max(MIN_STACK_SIZE);
    bytes.div_ceil(page).saturating_mul(page)
}

/// Checks a requested stack size and rounds it; sizes above [`MAX_STACK_SIZE`] are an error.
pub(crate) fn checked_stack_size(bytes: usize) -> io::Result<usize> {
    if bytes > MAX_STACK_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "coroutine stack size {bytes} bytes is above the 1 GiB limit; \
                 stack sizes are in bytes, not words"
            ),
        ));
    }
    Ok(round_stack_size(bytes))
}

/// Parses a size such as `"4096"`, `"64KiB"`, `"64k"`, `"1MiB"` or `"1M"` into bytes.
///
/// ```
/// use may_core::coroutine::parse_size;
/// assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
/// assert_eq!(parse_size("1 MiB"), Ok(1 << 20));
/// assert!(parse_size("12 parsecs").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "{text:?} is not a size: expected a number such as \"64KiB\""
        ));
    }
    let number: usize = digits
        .parse()
        .map_err(|_| format!("{digits:?} is too large"))?;
    let multiplier: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KiB, MiB or GiB"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} overflows a usize"))
}

/// Maps a fresh generator stack of `bytes`, with full usage tracking when `measure` is set.
///
/// `generator` panics when the mapping fails; that panic is caught and turned into an error that
/// names the likely cause.
pub(crate) fn new_generator(
    bytes: usize,
    measure: bool,
    body: impl FnOnce() + Send + 'static,
) -> io::Result<Gen> {
    // An odd word count makes generator fill the whole stack with its sentinel, so that the
    // measured usage is exact.
    let words = if measure {
        bytes / WORD + 1
    } else {
        bytes / WORD
    };
    let made =
        quiet_panics(|| panic::catch_unwind(AssertUnwindSafe(|| Gn::<()>::new_opt(words, body))));
    made.map_err(|_| stack_alloc_error(bytes))
}

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the panic message of this thread suppressed: generator reports a failed stack
/// mapping by panicking, and that panic becomes an `io::Error` rather than a printed message.
fn quiet_panics<R>(f: impl FnOnce() -> R) -> R {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = f();
    QUIET.with(|q| q.set(false));
    result
}

fn stack_alloc_error(bytes: usize) -> io::Error {
    let os = io::Error::last_os_error();
    let max_maps = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok());
    let hint = match max_maps {
        Some(limit) => format!(
            "each coroutine stack is two memory mappings and vm.max_map_count is {limit} \
             (about {} live coroutines); raise it with `sysctl vm.max_map_count=N` or use \
             fewer live coroutines",
            limit / 2
        ),
        None => "the process may have hit its memory-mapping limit".to_string(),
    };
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        format!("failed to map a {bytes}-byte coroutine stack ({os}): {hint}"),
    )
}

/// Bytes of a generator's stack that have been written, as measured by `generator`.
pub(crate) fn used_bytes(gen: &Gen) -> usize {
    gen.stack_usage().1 * WORD
}
