//! `go!`: spawn a coroutine, Go style.
//!
//! - `go!(closure)` or `go!(callable)`: spawns it.
//! - `go!(f(a, b))`, `go!(obj.method(a))`: like Go's `go f(a, b)`, the function value (unless it
//!   is a plain path), the receiver and the arguments are evaluated now, in the caller, from
//!   left to right; the call itself runs in the new coroutine.
//! - Options come first, in any order: `go!(stack = "8KiB", name = "conn", move || ...)`.
//! - `go!(spawner, body)`: spawns with a `Builder` (giving `io::Result<JoinHandle<T>>`, as
//!   `Builder::spawn` does) or a scope's `&Scope` (giving `ScopedJoinHandle<T>`, as
//!   `Scope::spawn` does). Which one is decided by type, through
//!   `coroutine::__go_spawn`: both are ordinary expressions.
//!
//! Telling the forms apart by syntax: `key = value` is an option; a closure is always the body,
//! so nothing may follow it; of two expressions the first is the spawner and the second the
//! body.
//!
//! Expands to a block that evaluates to `JoinHandle<T>` (or what the spawner gives).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::options::{parse_one, peek_option, Key, Options};

const KEYS: &[Key] = &[Key::Stack, Key::Name, Key::Crate];
const MACRO: &str = "go!";

/// A parsed `go!` invocation.
struct Go {
    options: Options,
    /// The `Builder` or `&Scope` of `go!(spawner, body)`.
    spawner: Option<Expr>,
    body: Expr,
}

impl Parse for Go {
    fn parse(input: ParseStream) -> syn::Result<Go> {
        let mut options = Options::default();
        let mut config_keys = Vec::new();
        while peek_option(input) {
            let key = input.fork().call(Ident::parse_any)?;
            parse_one(input, &mut options, KEYS, MACRO)?;
            if key != "crate" {
                config_keys.push(key);
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if input.is_empty() {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "go! needs something to run after its options: a closure such as \
                 `go!(move || work())` or a call such as `go!(handle(conn))`",
            ));
        }
        let first: Expr = input.parse()?;
        let mut spawner = None;
        let mut body = first;
        // A closure is the body; after anything else, a second expression is the body and the
        // first one spawns it.
        if !matches!(body, Expr::Closure(_)) && input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
            if peek_option(input) {
                return Err(input.error(
                    "options come first in go!, and go!(builder_or_scope, body) takes none: \
                     `go!(stack = \"8KiB\", move || ..)`, or configure the Builder",
                ));
            }
            if !input.is_empty() {
                spawner = Some(body);
                body = input.parse()?;
            }
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            if spawner.is_some() {
                let msg = "go! takes at most two expressions, a Builder or scope and the body: \
                           `go!(builder, move || ..)`; may 0.3's `go!(cqueue, token, f)` is \
                           gone, use `select!`";
                let rest: TokenStream = input.parse()?;
                return Err(syn::Error::new_spanned(rest, msg));
            }
            return Err(input.error(
                "unexpected tokens after the body of go!: options come first, the closure or \
                 call last",
            ));
        }
        if let (Some(_), Some(key)) = (&spawner, config_keys.first()) {
            return Err(syn::Error::new_spanned(
                key,
                format!(
                    "`{key}` cannot be combined with a Builder or scope in go!: configure the \
                     Builder (`go!(Builder::new().name(..).stack_size(..), body)`), or for a \
                     scope call `s.spawn_with(builder, body)`"
                ),
            ));
        }
        Ok(Go {
            options,
            spawner,
            body,
        })
    }
}

/// Entry point.
pub(crate) fn go(input: TokenStream) -> TokenStream {
    if input.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "go!() needs something to run: a closure such as `go!(move || work())` or a call \
             such as `go!(handle(conn))`",
        )
        .into_compile_error();
    }
    match Go::parse.parse2(input) {
        Ok(go) => expand(go),
        Err(err) => err.into_compile_error(),
    }
}

fn expand(go: Go) -> TokenStream {
    let rt = go.options.runtime();
    let (prelude, closure) = split_call(go.body);
    if let Some(spawner) = go.spawner {
        // Evaluated first, left to right as written; the call is spanned on the spawner so
        // that "not a Builder or scope" points at it.
        let arg = quote_spanned!(spawner.span()=> __may_spawner);
        return quote! {{
            let __may_spawner = #spawner;
            #prelude
            let __may_go = #closure;
            #rt::coroutine::__go_spawn(#arg, __may_go)
        }};
    }
    let spawn = if go.options.name.is_none() && go.options.stack.is_none() {
        quote!(#rt::coroutine::spawn(__may_go))
    } else {
        let builder = go.options.builder_calls();
        quote! {
            match #rt::coroutine::Builder::new() #builder.spawn(__may_go) {
                ::core::result::Result::Ok(handle) => handle,
                ::core::result::Result::Err(err) => {
                    ::core::panic!("may: go!: cannot spawn the coroutine: {}", err)
                }
            }
        }
    };
    quote! {{
        #prelude
        let __may_go = #closure;
        #spawn
    }}
}

/// Splits a call into the evaluations done in the caller and the closure run in the coroutine.
/// Anything that is not a call is spawned as it is (a closure or a callable value).
fn split_call(body: Expr) -> (TokenStream, TokenStream) {
    match body {
        Expr::Call(call) => {
            let mut prelude = TokenStream::new();
            let func = match &*call.func {
                Expr::Path(path) => quote!(#path),
                other => {
                    prelude.extend(quote!(let __may_func = #other;));
                    quote!(__may_func)
                }
            };
            let (bind, names) = bind_args(call.args.iter());
            prelude.extend(bind);
            (prelude, quote!(move || #func(#(#names),*)))
        }
        Expr::MethodCall(call) => {
            let receiver = &call.receiver;
            let mut prelude = quote!(let __may_receiver = #receiver;);
            let (bind, names) = bind_args(call.args.iter());
            prelude.extend(bind);
            let method = &call.method;
            let turbofish = &call.turbofish;
            (
                prelude,
                quote!(move || __may_receiver.#method #turbofish (#(#names),*)),
            )
        }
        other => (TokenStream::new(), quote!(#other)),
    }
}

/// `let __may_arg0 = a; let __may_arg1 = b;`: left to right, in the caller.
fn bind_args<'a>(args: impl Iterator<Item = &'a Expr>) -> (TokenStream, Vec<proc_macro2::Ident>) {
    let mut bind = TokenStream::new();
    let mut names = Vec::new();
    for (i, arg) in args.enumerate() {
        let name = format_ident!("__may_arg{}", i);
        bind.extend(quote!(let #name = #arg;));
        names.push(name);
    }
    (bind, names)
}
