//! The code `select!` expands to.
//!
//! ```text
//! {
//!     enum __MayOutcome<'a, G..> { __MayNative(SelectedOperation<'a>), __MayGeneralN(Gn).., __MayDefault }
//!     match (&(chan0), &(chan1), ..) {            // temporaries live to the end of the match
//!         (src0, src1, ..) => {
//!             let end0 = recv_end(src0); ..          // through any `Deref` wrappers
//!             let outcome = <select>;                // a scope when there are general branches
//!             match outcome {
//!                 __MayNative(op) => match op.index() { 0 => { let pat0 = op.recv(end0); body0 } .. },
//!                 __MayGeneralN(patN) => bodyN,
//!                 __MayDefault => default_body,
//!             }
//!         }
//!     }
//! }
//! ```
//!
//! Channel branches become operations of one `Select` (one waiter on every channel, nothing
//! spawned); their index is their position among the branches. Each general branch runs in a
//! scoped child coroutine that sends its value over a private one-slot channel, which joins
//! the same `Select`; when another branch wins, the child is cancelled and joined before the
//! scope ends, so it may borrow local data. Completing the chosen operation, evaluating a send's
//! value and running the body all happen after that, outside any closure, so `break`,
//! `continue`, `return` and `?` act on the code around `select!`.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Expr;

use super::parse::{Kind, SelectInput};

/// Everything generated per branch, gathered in branch order.
#[derive(Default)]
struct Parts {
    /// `&(chan)` for the match scrutinee, and the names they are bound to.
    sources: Vec<TokenStream>,
    source_names: Vec<TokenStream>,
    /// `let end = recv_end(src);` / `send_end(src)`
    ends: Vec<TokenStream>,
    /// The private channels of general branches, created before the scope.
    general_channels: Vec<TokenStream>,
    /// Spawning the general children, inside the scope.
    spawn: Vec<TokenStream>,
    /// `__may_sel.recv(..)` / `__may_sel.send(..)`, in branch order (index = position).
    register: Vec<TokenStream>,
    /// Cancelling general children that did not win.
    cancel_losers: Vec<TokenStream>,
    /// Taking a general branch's value, inside the scope.
    general_complete: Vec<TokenStream>,
    /// `index => { let pat = op.recv(end); body }` for native branches.
    native_arms: Vec<TokenStream>,
    /// `__MayGeneralN(pat) => body` for general branches.
    general_arms: Vec<TokenStream>,
    /// The enum's type parameters and variants for general branches.
    params: Vec<TokenStream>,
    variants: Vec<TokenStream>,
}

impl Parts {
    /// Evaluates `chan` in the match scrutinee and binds the channel end that `getter`
    /// (`recv_end`/`send_end`) finds behind it; returns the end's name. Spanned on `chan`, so
    /// that "not a receiver" errors point at it.
    fn channel_end(&mut self, i: usize, chan: &Expr, getter: &str) -> Ident {
        let sp = span(chan);
        let src = format_ident!("__may_source{}", i, span = sp);
        let end = format_ident!("__may_end{}", i);
        let getter = Ident::new(getter, sp);
        self.sources.push(quote_spanned!(sp=> &(#chan)));
        self.source_names.push(quote!(#src));
        self.ends.push(quote_spanned! {sp=>
            let #end = ::may::select::__macro_support::#getter(#src);
        });
        end
    }
}

pub(super) fn expand(input: SelectInput) -> TokenStream {
    let rt = quote!(::may);
    let mut p = Parts::default();
    for (i, branch) in input.branches.iter().enumerate() {
        let index = Literal::usize_unsuffixed(i);
        let (pat, body) = (&branch.pat, &branch.body);
        match &branch.kind {
            Kind::Recv { chan } => {
                let end = p.channel_end(i, chan, "recv_end");
                p.register.push(quote!(__may_sel.recv(#end);));
                p.native_arms.push(quote! {
                    #index => {
                        let #pat = __may_op.recv(#end);
                        #body
                    }
                });
            }
            Kind::Send { chan, value } => {
                let end = p.channel_end(i, chan, "send_end");
                p.register.push(quote!(__may_sel.send(#end);));
                p.native_arms.push(quote! {
                    #index => {
                        let #pat = __may_op.send(#end, #value);
                        #body
                    }
                });
            }
            Kind::General { expr } => general(&rt, &mut p, i, pat, body, expr),
        }
    }

    let has_general = !p.general_arms.is_empty();
    let new_select = if input.biased {
        quote!(#rt::select::Select::new_biased())
    } else {
        quote!(#rt::select::Select::new())
    };
    let Parts {
        register,
        spawn,
        cancel_losers,
        general_complete,
        ..
    } = &p;
    let pick = pick(&input, cancel_losers);
    let select_body = quote! {
        let mut __may_sel = #new_select;
        #(#register)*
        let __may_op = #pick;
        let __may_chosen = __may_op.index();
        #(#cancel_losers)*
        match __may_chosen {
            #(#general_complete)*
            _ => __MayOutcome::__MayNative(__may_op),
        }
    };
    // A labelled block: `break '__may_select` above leaves the selection with its outcome.
    let run = if has_general {
        quote! {
            #rt::coroutine::__select_scope(|__may_scope| {
                #(#spawn)*
                '__may_select: { #select_body }
            })
        }
    } else {
        quote!('__may_select: { #select_body })
    };
    let default_arm = match &input.default {
        Some(default) => {
            let body = &default.body;
            quote!(__MayOutcome::__MayDefault => #body,)
        }
        None => quote!(__MayOutcome::__MayDefault => ::std::unreachable!(),),
    };
    let Parts {
        sources,
        source_names,
        ends,
        general_channels,
        native_arms,
        general_arms,
        params,
        variants,
        ..
    } = &p;
    quote! {
        {
            #[allow(non_camel_case_types, dead_code, clippy::enum_variant_names)]
            enum __MayOutcome<'__may, #(#params),*> {
                __MayNative(#rt::select::SelectedOperation<'__may>),
                #(#variants,)*
                __MayDefault,
            }
            match (#(#sources,)*) {
                (#(#source_names,)*) => {
                    #(#ends)*
                    #(#general_channels)*
                    #[allow(unreachable_code)]
                    let __may_outcome = #run;
                    match __may_outcome {
                        __MayOutcome::__MayNative(__may_op) => match __may_op.index() {
                            #(#native_arms)*
                            _ => ::std::unreachable!("select! chose an operation it did not register"),
                        },
                        #(#general_arms)*
                        #default_arm
                    }
                }
            }
        }
    }
}

/// Waits for an operation: `__may_op`, or leaves with the default outcome.
fn pick(input: &SelectInput, cancel_losers: &[TokenStream]) -> TokenStream {
    let Some(default) = &input.default else {
        return quote!(__may_sel.select());
    };
    let attempt = match &default.timeout {
        None => quote!(__may_sel.try_select()),
        Some(timeout) => quote!(__may_sel.select_timeout(#timeout)),
    };
    quote! {
        match #attempt {
            ::std::result::Result::Ok(__may_op) => __may_op,
            ::std::result::Result::Err(_) => {
                let __may_chosen = usize::MAX;
                #(#cancel_losers)*
                break '__may_select __MayOutcome::__MayDefault;
            }
        }
    }
}

/// The parts of general branch `i`: `pat = expr => body`.
fn general(rt: &TokenStream, p: &mut Parts, i: usize, pat: &syn::Pat, body: &Expr, expr: &Expr) {
    let index = Literal::usize_unsuffixed(i);
    let (tx, rx) = (
        format_ident!("__may_general_tx{}", i),
        format_ident!("__may_general_rx{}", i),
    );
    let handle = format_ident!("__may_general{}", i);
    let variant = format_ident!("__MayGeneral{}", i);
    let param = format_ident!("__MayG{}", i);
    p.params.push(quote!(#param));
    p.variants.push(quote!(#variant(#param)));
    p.general_channels.push(quote! {
        let (#tx, #rx) = #rt::sync::mpmc::bounded(1);
    });
    p.spawn.push(quote! {
        let #handle = {
            // `mut`: the expression may mutate what it captures (`stream.read(&mut buf)`).
            #[allow(unused_mut)]
            let mut __may_run = || #expr;
            __may_scope.spawn(move || {
                // `try_send`, not `send`: the one-slot channel is empty, and a cancellation
                // arriving now must not drop the value at a blocking call.
                let _ = #tx.try_send(__may_run());
            })
        };
    });
    p.register.push(quote!(__may_sel.recv(&#rx);));
    p.cancel_losers.push(quote! {
        if __may_chosen != #index {
            #handle.coroutine().cancel();
        }
    });
    p.general_complete.push(quote! {
        #index => match __may_op.recv(&#rx) {
            ::std::result::Result::Ok(__may_value) => __MayOutcome::#variant(__may_value),
            // The child dropped its sender without sending: it panicked.
            ::std::result::Result::Err(_) => match #handle.join() {
                ::std::result::Result::Err(__may_err) => {
                    ::std::panic::resume_unwind(__may_err.into_panic())
                }
                ::std::result::Result::Ok(()) => {
                    ::std::unreachable!("a select! branch ended without a value")
                }
            },
        },
    });
    p.general_arms
        .push(quote!(__MayOutcome::#variant(#pat) => #body,));
}

fn span(expr: &Expr) -> Span {
    syn::spanned::Spanned::span(expr)
}
