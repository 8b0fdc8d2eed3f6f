//! Stack sizes written in macros: `stack = 65536`, `stack = 64 * 1024`, `stack = "64KiB"`,
//! `stack = "1MiB"` or any `usize` expression.
//!
//! Literals, and arithmetic on integer literals, are checked at compile time: below one page
//! (4096 bytes) or above 1 GiB is an error on the offending token. Other expressions are passed
//! to `Builder::stack_size` unchanged and checked by the runtime.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, ToTokens};
use syn::{BinOp, Expr, Lit};

/// The smallest stack the macros accept: one page.
const MIN: u128 = 4096;
/// The largest stack the macros accept, like the runtime: 1 GiB.
const MAX: u128 = 1 << 30;

/// A validated stack size: a number of bytes known at compile time, or an expression.
pub(crate) enum Size {
    Bytes(usize),
    Expr(Box<Expr>),
}

impl Size {
    /// Parses and validates the value of a `stack = ...` option.
    pub fn parse(value: Expr) -> syn::Result<Size> {
        if let Expr::Lit(lit) = &value {
            return match &lit.lit {
                Lit::Str(text) => {
                    let bytes = parse_size(&text.value())
                        .map_err(|msg| syn::Error::new_spanned(text, msg))?;
                    in_range(bytes).map_err(|msg| syn::Error::new_spanned(text, msg))
                }
                Lit::Int(_) => match eval(&value) {
                    Some(Ok(bytes)) => in_range(bytes).map_err(|m| syn::Error::new_spanned(lit, m)),
                    _ => Err(syn::Error::new_spanned(lit, "this stack size does not fit")),
                },
                other => Err(syn::Error::new_spanned(
                    other,
                    "a stack size is a number of bytes or a string with a unit, \
                     such as `stack = \"64KiB\"`",
                )),
            };
        }
        match eval(&value) {
            Some(Ok(bytes)) => in_range(bytes).map_err(|msg| syn::Error::new_spanned(&value, msg)),
            Some(Err(msg)) => Err(syn::Error::new_spanned(&value, msg)),
            None => Ok(Size::Expr(Box::new(value))),
        }
    }
}

impl ToTokens for Size {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Size::Bytes(bytes) => Literal::usize_unsuffixed(*bytes).to_tokens(tokens),
            Size::Expr(expr) => quote!(#expr).to_tokens(tokens),
        }
    }
}

fn in_range(bytes: u128) -> Result<Size, String> {
    if bytes < MIN {
        return Err(format!(
            "stack size of {bytes} bytes is below one page ({MIN} bytes); sizes are in bytes: \
             try \"16KiB\""
        ));
    }
    if bytes > MAX {
        return Err(format!(
            "stack size of {bytes} bytes is above the 1 GiB limit; sizes are in bytes, not words"
        ));
    }
    Ok(Size::Bytes(bytes as usize))
}

/// Evaluates arithmetic on integer literals (`64 * 1024`, `1 << 20`). `None` when the expression
/// is not made only of literals; `Some(Err)` when it overflows or divides by zero.
fn eval(expr: &Expr) -> Option<Result<u128, String>> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(int) => Some(int.base10_parse::<u128>().map_err(|e| e.to_string())),
            _ => None,
        },
        Expr::Paren(paren) => eval(&paren.expr),
        Expr::Group(group) => eval(&group.expr),
        Expr::Binary(binary) => {
            let left = eval(&binary.left)?;
            let right = eval(&binary.right)?;
            let (left, right) = match (left, right) {
                (Ok(l), Ok(r)) => (l, r),
                (Err(e), _) | (_, Err(e)) => return Some(Err(e)),
            };
            let value = match binary.op {
                BinOp::Add(_) => left.checked_add(right),
                BinOp::Sub(_) => left.checked_sub(right),
                BinOp::Mul(_) => left.checked_mul(right),
                BinOp::Div(_) => left.checked_div(right),
                BinOp::Shl(_) => u32::try_from(right)
                    .ok()
                    .and_then(|r| left.checked_shl(r))
                    .filter(|v| v >> right == left),
                _ => return None,
            };
            Some(value.ok_or_else(|| "this stack size does not fit in a usize".to_string()))
        }
        _ => None,
    }
}

/// Parses `"4096"`, `"64KiB"`, `"64k"`, `"1 MiB"`, `"1M"` into bytes; the same grammar as
/// `may::coroutine::parse_size` at run time.
pub(crate) fn parse_size(text: &str) -> Result<u128, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "{text:?} is not a stack size: expected a number of bytes with an optional unit, \
             such as \"64KiB\" or \"1MiB\""
        ));
    }
    let number: u128 = digits
        .parse()
        .map_err(|_| format!("{digits:?} is too large for a stack size"))?;
    let multiplier: u128 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit {:?} in {text:?}: use B, KiB, MiB or GiB",
                unit.trim()
            ))
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large for a stack size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size("64k"), Ok(64 * 1024));
        assert_eq!(parse_size(" 1 MiB "), Ok(1 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("KiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn arithmetic() {
        let eval_str = |s: &str| eval(&syn::parse_str(s).unwrap());
        assert_eq!(eval_str("64 * 1024"), Some(Ok(65536)));
        assert_eq!(eval_str("(1 << 20) + 4096"), Some(Ok((1 << 20) + 4096)));
        assert_eq!(eval_str("n * 1024"), None);
        assert!(matches!(eval_str("1 << 200"), Some(Err(_))));
        assert!(matches!(eval_str("1 - 2"), Some(Err(_))));
    }

    #[test]
    fn range() {
        assert!(in_range(4095).is_err());
        assert!(in_range(4096).is_ok());
        assert!(in_range(1 << 30).is_ok());
        assert!(in_range((1 << 30) + 1).is_err());
    }
}
