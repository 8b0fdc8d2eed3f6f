//! `#[may::coroutine(stack = SIZE, name = "...")]` on a free function or a method: calling the
//! function spawns its body as a coroutine and returns `JoinHandle<R>`.
//!
//! The arguments are moved into the coroutine whole, so they must be `Send + 'static`; each is
//! checked with a bound spanned on its type so the error points at the argument. Generic
//! functions and `impl Trait` arguments work: the checks take the arguments by value type.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, Pat, PatIdent, ReturnType, Type};

use crate::options::{parse_attr_args, Key, Options};

const KEYS: &[Key] = &[Key::Stack, Key::Name, Key::Crate];
const ATTR: &str = "#[may::coroutine]";

/// Entry point.
pub(crate) fn coroutine(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(err) => {
            let msg = format!("{ATTR} goes on a function or a method with a body");
            let err = syn::Error::new(err.span(), msg).into_compile_error();
            return quote!(#item #err);
        }
    };
    let options = parse_attr_args(args, KEYS, ATTR);
    let args = validate(&func);
    match (options, args) {
        (Ok(options), Ok(args)) => expand(&options, func, args),
        (options, args) => {
            let mut errors = options.err();
            if let Err(err) = args {
                match &mut errors {
                    Some(errors) => errors.combine(err),
                    None => errors = Some(err),
                }
            }
            let errors = errors.map(syn::Error::into_compile_error);
            quote!(#func #errors)
        }
    }
}

/// One argument after validation: the name it has in the outer function, and how the coroutine
/// binds it again (`let mut x = x;`, `let (a, b) = __may_arg1;`).
struct Arg {
    outer: TokenStream,
    rebind: TokenStream,
    ty_span: Span,
    /// The name of a plain `name: Type` argument.
    ident: Option<Ident>,
}

/// Refuses what cannot become a coroutine and renames pattern arguments.
fn validate(func: &ItemFn) -> syn::Result<Vec<Arg>> {
    let sig = &func.sig;
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new_spanned(
            token,
            format!("{ATTR} cannot go on a `const fn`: calling it spawns a coroutine at run time"),
        ));
    }
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            token,
            format!(
                "{ATTR} cannot go on an `async fn`: the body runs in a coroutine, where \
                 blocking calls do not block the thread; remove `async`"
            ),
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new_spanned(
            abi,
            format!("{ATTR} cannot go on an `extern` function: its callers expect the body to run"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            format!("{ATTR} cannot go on a variadic function"),
        ));
    }
    let mut args = Vec::new();
    for (i, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(receiver) => {
                if receiver.reference.is_some() {
                    return Err(syn::Error::new_spanned(
                        receiver,
                        format!(
                            "{ATTR} methods take `self` by value (for example `self: Arc<Self>`): \
                             the coroutine may outlive a borrow of `self`"
                        ),
                    ));
                }
                let ty_span = receiver.ty.span();
                // `&self` makes the `move` closure capture `self` whole, not only the fields
                // the body uses.
                args.push(Arg {
                    outer: quote!(self),
                    rebind: quote!(let _ = &self;),
                    ty_span,
                    ident: None,
                });
            }
            FnArg::Typed(typed) => {
                if let Type::Reference(reference) = &*typed.ty {
                    let is_static = reference
                        .lifetime
                        .as_ref()
                        .is_some_and(|lt| lt.ident == "static");
                    if !is_static {
                        return Err(syn::Error::new_spanned(
                            reference,
                            format!(
                                "arguments of a {ATTR} function must be `'static`: the \
                                 coroutine may outlive the caller, so pass an owned value \
                                 (`String` rather than `&str`, an `Arc`, ...)"
                            ),
                        ));
                    }
                }
                let ty_span = typed.ty.span();
                args.push(match &*typed.pat {
                    Pat::Ident(PatIdent {
                        by_ref: None,
                        mutability,
                        ident,
                        subpat: None,
                        ..
                    }) => Arg {
                        outer: quote!(#ident),
                        rebind: quote!(let #mutability #ident = #ident;),
                        ty_span,
                        ident: Some(ident.clone()),
                    },
                    pat => {
                        let renamed = format_ident!("__may_arg{}", i);
                        Arg {
                            outer: quote!(#renamed),
                            rebind: quote!(let #pat = #renamed;),
                            ty_span,
                            ident: None,
                        }
                    }
                });
            }
        }
    }
    Ok(args)
}

/// The expansion: same signature with renamed pattern arguments and `JoinHandle<R>` as the
/// result; the body moves into a coroutine spawned with the options.
fn expand(options: &Options, func: ItemFn, args: Vec<Arg>) -> TokenStream {
    let rt = options.runtime();
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = func;
    let (ret, annotated) = match &sig.output {
        ReturnType::Default => (quote!(()), quote!(-> ())),
        ReturnType::Type(arrow, ty) => match &**ty {
            Type::ImplTrait(_) => (quote!(#ty), quote!()),
            _ => (quote!(#ty), quote!(#arrow #ty)),
        },
    };
    let ret_span = sig.output.span();
    sig.output = syn::parse_quote_spanned!(ret_span=> -> #rt::coroutine::JoinHandle<#ret>);
    for (input, arg) in sig.inputs.iter_mut().zip(&args) {
        if let FnArg::Typed(typed) = input {
            let outer = &arg.outer;
            *typed.pat = syn::parse_quote!(#outer);
        }
    }
    let check = Ident::new(
        "__may_coroutine_args_must_be_send_and_static",
        Span::call_site(),
    );
    // The whole check, the argument's name included, is spanned on the argument's type, so a
    // type that is not `Send + 'static` is underlined in the signature.
    let checks = args.iter().map(|arg| {
        let outer = Ident::new(&arg.outer.to_string(), arg.ty_span);
        quote_spanned!(arg.ty_span=> #check(&#outer);)
    });
    // An argument used only by the options (`name = format!("conn-{id}")`) is not unused.
    let in_options = options.builder_calls().to_string();
    let rebinds = args.iter().map(|arg| {
        let rebind = &arg.rebind;
        match &arg.ident {
            Some(ident) if mentions(&in_options, &ident.to_string()) => {
                quote!(#[allow(unused_variables)] #rebind)
            }
            _ => quote!(#rebind),
        }
    });
    let builder = options.builder_calls();
    let fn_name = sig.ident.to_string();
    let stmts = &block.stmts;
    quote! {
        #(#attrs)*
        #vis #sig {
            fn #check<T: ::core::marker::Send + 'static>(_: &T) {}
            #(#checks)*
            let __may_builder = #rt::coroutine::Builder::new() #builder;
            let __may_body = move || #annotated {
                #(#rebinds)*
                #(#stmts)*
            };
            match __may_builder.spawn(__may_body) {
                ::core::result::Result::Ok(handle) => handle,
                ::core::result::Result::Err(err) => {
                    ::core::panic!("may: cannot spawn the coroutine of `{}`: {}", #fn_name, err)
                }
            }
        }
    }
}

/// Whether `tokens` (a token stream printed as text) contains the identifier `ident`.
fn mentions(tokens: &str, ident: &str) -> bool {
    tokens
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| word == ident)
}
