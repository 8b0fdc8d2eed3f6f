//! Procedural macros of `may`: `#[may::main]`, `#[may::test]`, `#[may::coroutine]`, `go!`,
//! `join!`, `select!` and `select_biased!`. Use them through the `may` facade; `docs/macros.md`
//! and `docs/select.md` describe each one, its options, its expansion and its errors.
//!
//! Each macro is a pipeline working on `proc_macro2`: parse the input, validate it (errors are
//! `syn::Error`s spanned on the offending token), expand. Options shared by the macros
//! (`workers`, `stack`, `name`, `crate`) are parsed in `options`, sizes in `size`.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod coroutine_attr;
mod entry;
mod go;
mod join;
mod options;
mod select;
mod size;

use proc_macro::TokenStream;

use entry::Entry;

/// Runs `fn main` in a coroutine: `#[may::main]`, `#[may::main(workers = 4, stack = "64KiB")]`.
/// Also on `fn main() -> Result<(), E>`. See `docs/macros.md`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::entry(Entry::Main, args.into(), item.into()).into()
}

/// Runs a test in a coroutine and adds `#[test]`: `#[may::test]`,
/// `#[may::test(workers = 1, stack = "1MiB")]`. See `docs/macros.md`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::entry(Entry::Test, args.into(), item.into()).into()
}

/// Makes calling a function spawn its body as a coroutine, returning `JoinHandle<R>`:
/// `#[may::coroutine(stack = "1MiB", name = "parser")]`. See `docs/macros.md`.
#[proc_macro_attribute]
pub fn coroutine(args: TokenStream, item: TokenStream) -> TokenStream {
    coroutine_attr::coroutine(args.into(), item.into()).into()
}

/// Spawns a coroutine: `go!(move || ..)`, `go!(f(a, b))` (arguments evaluated by the caller),
/// `go!(stack = "8KiB", name = "conn", move || ..)`. Returns `JoinHandle<T>`.
#[proc_macro]
pub fn go(input: TokenStream) -> TokenStream {
    go::go(input.into()).into()
}

/// Runs each expression in a coroutine, waits for all, returns a tuple of their values:
/// `join!(a(), b())`. The expressions may borrow locals.
#[proc_macro]
pub fn join(input: TokenStream) -> TokenStream {
    join::join(input.into()).into()
}

/// Waits for the first of several operations and runs its branch: `recv(rx) -> msg => ..`,
/// `send(tx, v) -> res => ..`, `pattern = blocking_expression => ..` (run in a child coroutine,
/// cancelled if another branch wins), `default => ..`, `default(timeout) => ..`, and `biased;`
/// first to prefer earlier branches. See `docs/select.md`.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    select::select(input.into(), false).into()
}

/// `select!` that prefers the earliest ready branch, like crossbeam-channel's
/// `select_biased!`: the same as `select! { biased; .. }`.
#[proc_macro]
pub fn select_biased(input: TokenStream) -> TokenStream {
    select::select(input.into(), true).into()
}
