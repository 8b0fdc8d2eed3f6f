//! `select!` and `select_biased!`: wait for the first of several operations and run its branch.
//!
//! ```text
//! select! {
//!     biased;                              // optional: the first ready branch wins
//!     recv(rx) -> msg => body,             // native: channel receive
//!     send(tx, value) -> res => body,      // native: channel send (value evaluated if chosen)
//!     pat = rx.recv() => body,             // native: the same as `recv(rx) -> pat => body`
//!     pat = any_blocking_expr => body,     // general: runs in a child coroutine
//!     default => body,                     // nothing is ready now (also `default()`)
//!     default(timeout) => body,            // nothing became ready within `timeout`
//! }
//! ```
//!
//! The crossbeam-channel forms are accepted as crossbeam's `select!` accepts them: trailing
//! commas, blocks without a comma, a lone `default`, channel expressions that are temporaries or
//! `Deref` wrappers. `parse` reads the input into a [`parse::SelectInput`]; `expand` writes the
//! code (see there for how it runs).

mod expand;
mod parse;

use proc_macro2::{Span, TokenStream};

/// Entry point; `biased` for `select_biased!`.
pub(crate) fn select(input: TokenStream, biased: bool) -> TokenStream {
    if input.is_empty() {
        return syn::Error::new(Span::call_site(), parse::EMPTY).to_compile_error();
    }
    match syn::parse2::<parse::SelectInput>(input) {
        Ok(mut parsed) => {
            parsed.biased |= biased;
            expand::expand(parsed)
        }
        Err(err) => err.to_compile_error(),
    }
}
