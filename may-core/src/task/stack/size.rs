//! Stack sizes: always bytes in the public API, rounded up to whole pages; their parsing and
//! validation.

use std::io;

use crate::sys::page_size;

/// Default coroutine stack size: 32 KiB.
pub const DEFAULT_STACK_SIZE: usize = 32 * 1024;
/// Largest stack a coroutine may ask for: 1 GiB.
pub const MAX_STACK_SIZE: usize = 1 << 30;
/// Smallest stack handed out; smaller requests are rounded up to it.
pub const MIN_STACK_SIZE: usize = 4 * 1024;

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
