//! `join!(a(), b(), c())`: runs each expression in its own coroutine, waits for all of them and
//! returns their values as a tuple.
//!
//! The expressions may borrow local variables: the coroutines are scoped
//! (`may::coroutine::scope`), so every one has finished before `join!` returns. When some
//! panic, the first of them in argument order is propagated, after all have finished.
//! Options come first: `join!(stack = "64KiB", a(), b())`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use crate::options::{parse_one, peek_option, Key, Options};

const KEYS: &[Key] = &[Key::Stack, Key::Crate];
const MACRO: &str = "join!";

/// A parsed `join!` invocation.
struct Join {
    options: Options,
    exprs: Vec<Expr>,
}

impl Parse for Join {
    fn parse(input: ParseStream) -> syn::Result<Join> {
        let mut options = Options::default();
        while peek_option(input) {
            parse_one(input, &mut options, KEYS, MACRO)?;
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if input.is_empty() {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "join! needs at least one expression to run after its options, such as \
                 `join!(a(), b())`",
            ));
        }
        let exprs = Punctuated::<Expr, Token![,]>::parse_terminated(input)?;
        Ok(Join {
            options,
            exprs: exprs.into_iter().collect(),
        })
    }
}

/// Entry point.
pub(crate) fn join(input: TokenStream) -> TokenStream {
    if input.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "join!() needs at least one expression to run, such as `join!(a(), b())`",
        )
        .into_compile_error();
    }
    match Join::parse.parse2(input) {
        Ok(join) => expand(join),
        Err(err) => err.into_compile_error(),
    }
}

fn expand(join: Join) -> TokenStream {
    let rt = join.options.runtime();
    let stack = join
        .options
        .stack
        .as_ref()
        .map(|size| quote!(.stack_size(#size)));
    let handles: Vec<_> = (0..join.exprs.len())
        .map(|i| format_ident!("__may_handle{}", i))
        .collect();
    let results: Vec<_> = (0..join.exprs.len())
        .map(|i| format_ident!("__may_result{}", i))
        .collect();
    let exprs = &join.exprs;
    quote! {
        #rt::coroutine::scope(|__may_scope| {
            #(
                let #handles = match __may_scope
                    .spawn_with(
                        ::core::convert::Into::into(#rt::coroutine::Builder::new() #stack),
                        || #exprs,
                    )
                {
                    ::core::result::Result::Ok(handle) => handle,
                    ::core::result::Result::Err(err) => {
                        ::core::panic!("may: join!: cannot spawn a coroutine: {}", err)
                    }
                };
            )*
            #( let #results = #handles.join(); )*
            (#(
                match #results {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(err) => {
                        ::std::panic::resume_unwind(err.into_panic())
                    }
                },
            )*)
        })
    }
}
