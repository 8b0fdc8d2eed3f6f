//! `select!`: wait for the first of several operations and run its branch.
//!
//! ```text
//! select! {
//!     biased;                              // optional: the first ready branch wins
//!     recv(rx) -> msg => body,             // native: channel receive
//!     send(tx, value) -> res => body,      // native: channel send (value evaluated if chosen)
//!     pat = any_blocking_expr => body,     // general: runs in a child coroutine
//!     default => body,                     // nothing is ready now
//!     default(timeout) => body,            // nothing became ready within `timeout`
//! }
//! ```
//!
//! Channel branches become operations of one `Select` (one waiter on every channel, nothing
//! spawned). Each general branch runs in a scoped child coroutine that sends its value over a
//! private one-slot channel, which joins the same `Select`; when another branch wins, the child
//! is cancelled and joined before `select!` returns, so it may borrow local data. The winning
//! branch's body runs after all of that, outside any closure, so `break`, `continue`, `return`
//! and `?` in bodies act on the code around `select!`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parenthesized, Expr, Ident, Pat, Token};

enum Kind {
    Recv { chan: Expr },
    Send { chan: Expr, value: Expr },
    General { expr: Expr },
}

struct Branch {
    kind: Kind,
    pat: Pat,
    body: Expr,
}

struct Default {
    keyword: Ident,
    timeout: Option<Expr>,
    body: Expr,
}

struct SelectInput {
    biased: bool,
    branches: Vec<Branch>,
    default: Option<Default>,
}

fn parse_body(input: ParseStream) -> syn::Result<Expr> {
    let body: Expr = input.parse()?;
    let is_block = matches!(body, Expr::Block(_));
    if input.is_empty() {
        return Ok(body);
    }
    if is_block {
        let _ = input.parse::<Option<Token![,]>>()?;
    } else {
        input
            .parse::<Token![,]>()
            .map_err(|_| input.error("expected `,` after a branch body that is not a block"))?;
    }
    Ok(body)
}

fn peek_keyword(input: ParseStream, word: &str) -> bool {
    let fork = input.fork();
    match fork.parse::<Ident>() {
        Ok(ident) if ident == word => fork.peek(syn::token::Paren) || fork.peek(Token![=>]),
        _ => false,
    }
}

impl Parse for SelectInput {
    fn parse(input: ParseStream) -> syn::Result<SelectInput> {
        let mut biased = false;
        let fork = input.fork();
        if let Ok(ident) = fork.parse::<Ident>() {
            if ident == "biased" && fork.peek(Token![;]) {
                input.parse::<Ident>()?;
                input.parse::<Token![;]>()?;
                biased = true;
            }
        }
        let mut branches = Vec::new();
        let mut default: Option<Default> = None;
        while !input.is_empty() {
            if peek_keyword(input, "default") {
                let keyword: Ident = input.parse()?;
                let timeout = if input.peek(syn::token::Paren) {
                    let content;
                    let parens = parenthesized!(content in input);
                    if content.is_empty() {
                        return Err(syn::Error::new(
                            parens.span.join(),
                            "`default()` needs a timeout: write `default => ..` or \
                             `default(Duration::from_millis(50)) => ..`",
                        ));
                    }
                    Some(content.parse::<Expr>()?)
                } else {
                    None
                };
                input.parse::<Token![=>]>()?;
                let body = parse_body(input)?;
                if default.is_some() {
                    return Err(syn::Error::new_spanned(
                        &keyword,
                        "select! takes at most one `default` branch",
                    ));
                }
                default = Some(Default {
                    keyword,
                    timeout,
                    body,
                });
                continue;
            }
            if peek_keyword(input, "recv") || peek_keyword(input, "send") {
                let keyword: Ident = input.parse()?;
                let content;
                let parens = parenthesized!(content in input);
                let args: Punctuated<Expr, Token![,]> =
                    content.parse_terminated(Expr::parse, Token![,])?;
                let kind = if keyword == "recv" {
                    if args.len() != 1 {
                        return Err(syn::Error::new(
                            parens.span.join(),
                            "`recv` takes one argument, the receiver: `recv(rx) -> msg => ..`",
                        ));
                    }
                    Kind::Recv {
                        chan: args[0].clone(),
                    }
                } else {
                    if args.len() != 2 {
                        return Err(syn::Error::new(
                            parens.span.join(),
                            "`send` takes two arguments, the sender and the value: \
                             `send(tx, value) -> res => ..`",
                        ));
                    }
                    Kind::Send {
                        chan: args[0].clone(),
                        value: args[1].clone(),
                    }
                };
                input.parse::<Token![->]>().map_err(|_| {
                    syn::Error::new_spanned(
                        &keyword,
                        format!("expected `-> pattern` after `{keyword}(..)`"),
                    )
                })?;
                let pat = Pat::parse_single(input)?;
                input.parse::<Token![=>]>()?;
                let body = parse_body(input)?;
                branches.push(Branch { kind, pat, body });
                continue;
            }
            let pat = Pat::parse_single(input)?;
            input.parse::<Token![=]>().map_err(|_| {
                input.error(
                    "expected a select! branch: `recv(rx) -> msg => ..`, \
                     `send(tx, v) -> res => ..`, `pattern = expression => ..`, or `default => ..`",
                )
            })?;
            let expr: Expr = input.parse()?;
            input.parse::<Token![=>]>()?;
            let body = parse_body(input)?;
            branches.push(Branch {
                kind: Kind::General { expr },
                pat,
                body,
            });
        }
        if branches.is_empty() {
            let span = default
                .as_ref()
                .map_or_else(Span::call_site, |d| d.keyword.span());
            return Err(syn::Error::new(
                span,
                "select! needs at least one `recv`, `send` or `pattern = expression` branch",
            ));
        }
        Ok(SelectInput {
            biased,
            branches,
            default,
        })
    }
}

/// Entry point.
pub(crate) fn select(input: TokenStream) -> TokenStream {
    if input.is_empty() {
        return syn::Error::new(
            Span::call_site(),
            "select! needs at least one `recv`, `send` or `pattern = expression` branch",
        )
        .to_compile_error();
    }
    match syn::parse2::<SelectInput>(input) {
        Ok(parsed) => expand(parsed),
        Err(err) => err.to_compile_error(),
    }
}

fn expand(input: SelectInput) -> TokenStream {
    let rt = quote!(::may);
    let n = input.branches.len();
    let variants: Vec<Ident> = (0..n).map(|i| format_ident!("__MayBranch{}", i)).collect();
    let params: Vec<Ident> = (0..n).map(|i| format_ident!("__MayT{}", i)).collect();
    let has_general = input
        .branches
        .iter()
        .any(|b| matches!(b.kind, Kind::General { .. }));

    let mut setup = Vec::new(); // evaluated before the selection, outside the scope
    let mut spawn = Vec::new(); // general children, inside the scope
    let mut register = Vec::new();
    let mut complete = Vec::new();
    let mut cancel_losers = Vec::new();
    for (i, branch) in input.branches.iter().enumerate() {
        let variant = &variants[i];
        let index = format_ident!("__may_index{}", i);
        match &branch.kind {
            Kind::Recv { chan } => {
                let end = format_ident!("__may_chan{}", i);
                let src = format_ident!("__may_source{}", i);
                setup.push(quote_spanned! {chan_span(chan)=>
                    // `let x = &temp;` keeps a temporary such as `after(d)` alive for the block.
                    let #src = &(#chan);
                    let #end = #rt::select::__macro_support::recv_end(#src);
                });
                register.push(quote!(let #index = __may_sel.recv(#end);));
                complete.push(quote! {
                    if __may_chosen == #index {
                        return __MayOutcome::#variant(__may_op.recv(#end));
                    }
                });
            }
            Kind::Send { chan, value } => {
                let end = format_ident!("__may_chan{}", i);
                let src = format_ident!("__may_source{}", i);
                setup.push(quote_spanned! {chan_span(chan)=>
                    let #src = &(#chan);
                    let #end = #rt::select::__macro_support::send_end(#src);
                });
                register.push(quote!(let #index = __may_sel.send(#end);));
                complete.push(quote! {
                    if __may_chosen == #index {
                        return __MayOutcome::#variant(__may_op.send(#end, #value));
                    }
                });
            }
            Kind::General { expr } => {
                let rx = format_ident!("__may_general_rx{}", i);
                let handle = format_ident!("__may_general{}", i);
                spawn.push(quote! {
                    let (__may_tx, #rx) = #rt::sync::mpmc::bounded(1);
                    let #handle = {
                        // `mut`: the expression may mutate what it captures (`stream.read(&mut buf)`).
                        #[allow(unused_mut)]
                        let mut __may_run = || #expr;
                        __may_scope.spawn(move || {
                            // `try_send`, not `send`: the one-slot channel is empty, and a
                            // cancellation arriving now must not drop the value at a blocking call.
                            let _ = __may_tx.try_send(__may_run());
                        })
                    };
                });
                register.push(quote!(let #index = __may_sel.recv(&#rx);));
                cancel_losers.push(quote! {
                    if __may_chosen != #index {
                        #handle.coroutine().cancel();
                    }
                });
                complete.push(quote! {
                    if __may_chosen == #index {
                        match __may_op.recv(&#rx) {
                            ::std::result::Result::Ok(__may_value) => {
                                return __MayOutcome::#variant(__may_value);
                            }
                            // The child dropped its sender without sending: it panicked.
                            ::std::result::Result::Err(_) => match #handle.join() {
                                ::std::result::Result::Err(__may_err) => {
                                    ::std::panic::resume_unwind(__may_err.into_panic())
                                }
                                ::std::result::Result::Ok(()) => {
                                    ::std::unreachable!("a select! branch ended without a value")
                                }
                            },
                        }
                    }
                });
            }
        }
    }

    let new_select = if input.biased {
        quote!(#rt::select::Select::new_biased())
    } else {
        quote!(#rt::select::Select::new())
    };
    let (choose, default_arm) = match &input.default {
        None => (quote!(let __may_op = __may_sel.select();), quote!()),
        Some(default) => {
            let body = &default.body;
            let pick = match &default.timeout {
                None => quote!(__may_sel.try_select().ok()),
                Some(timeout) => quote!(__may_sel.select_timeout(#timeout).ok()),
            };
            (
                quote! {
                    let __may_op = match #pick {
                        ::std::option::Option::Some(__may_op) => __may_op,
                        ::std::option::Option::None => {
                            let __may_chosen = usize::MAX;
                            #(#cancel_losers)*
                            return __MayOutcome::__MayDefault;
                        }
                    };
                },
                quote!(__MayOutcome::__MayDefault => #body,),
            )
        }
    };
    let select_body = quote! {
        let mut __may_sel = #new_select;
        #(#register)*
        #choose
        let __may_chosen = __may_op.index();
        #(#cancel_losers)*
        #(#complete)*
        ::std::unreachable!("select! completed an operation it did not register")
    };
    let run = if has_general {
        quote! {
            #rt::select::__macro_support::scope(|__may_scope| {
                #(#spawn)*
                #select_body
            })
        }
    } else {
        quote!((|| { #select_body })())
    };
    let arms = input.branches.iter().enumerate().map(|(i, b)| {
        let variant = &variants[i];
        let pat = &b.pat;
        let body = &b.body;
        quote!(__MayOutcome::#variant(#pat) => #body,)
    });
    quote! {
        {
            #[allow(non_camel_case_types, clippy::enum_variant_names)]
            enum __MayOutcome<#(#params),*> {
                #(#variants(#params),)*
                __MayDefault,
            }
            #(#setup)*
            #[allow(unreachable_code, clippy::redundant_closure_call)]
            let __may_outcome = #run;
            match __may_outcome {
                #(#arms)*
                #default_arm
                #[allow(unreachable_patterns)]
                _ => ::std::unreachable!(),
            }
        }
    }
}

fn chan_span(chan: &Expr) -> Span {
    syn::spanned::Spanned::span(chan)
}
