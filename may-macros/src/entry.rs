//! `#[may::main]` and `#[may::test]`: run a function's body in a coroutine and wait for it.
//!
//! Pipeline: [`parse`] the item and the options, [`validate`] the signature, [`expand`]. On an
//! error the item is still emitted (made as valid as possible) next to the error, so the user
//! sees one error and the IDE keeps working.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, LitStr, Meta, ReturnType, Type};

use crate::options::{parse_attr_args, Key, Options};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    Main,
    Test,
}

impl Entry {
    fn attr(self) -> &'static str {
        match self {
            Entry::Main => "#[may::main]",
            Entry::Test => "#[may::test]",
        }
    }
}

const KEYS: &[Key] = &[Key::Workers, Key::Stack, Key::Crate];

/// Entry point shared by both attributes.
pub(crate) fn entry(kind: Entry, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(err) => {
            let msg = format!("{} goes on a function", kind.attr());
            let err = syn::Error::new(err.span(), msg).into_compile_error();
            return quote!(#item #err);
        }
    };
    if kind == Entry::Test && invoked_as_bare_test(Span::call_site().source_text().as_deref()) {
        // Keep the standard `#[test]` next to the error, so that it is the only one.
        let err = syn::Error::new(Span::call_site(), BARE_TEST).into_compile_error();
        func.attrs.retain(|a| !is_test_attr(a));
        return quote!(#[::core::prelude::v1::test] #func #err);
    }
    let options = parse_attr_args(args, KEYS, kind.attr());
    let checked = validate(kind, &func);
    match (options, checked) {
        (Ok(options), Ok(())) => expand(kind, &options, func),
        (options, checked) => {
            let mut errors = options.err();
            if let Err(err) = checked {
                match &mut errors {
                    Some(errors) => errors.combine(err),
                    None => errors = Some(err),
                }
            }
            let errors = errors.map(syn::Error::into_compile_error);
            fallback(kind, &mut func);
            quote!(#func #errors)
        }
    }
}

/// Checks the signature: a sync function without arguments or generics, named `main` for
/// `#[may::main]`, without a second `#[test]` for `#[may::test]`.
fn validate(kind: Entry, func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
    let attr = kind.attr();
    if kind == Entry::Main && sig.ident != "main" {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            format!(
                "{attr} goes on `fn main`; to run `{}` in a coroutine, use \
                 `#[may::coroutine]` or `go!`",
                sig.ident
            ),
        ));
    }
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            token,
            format!(
                "{attr} runs the body in a coroutine, where blocking calls do not block the \
                 thread: remove `async`"
            ),
        ));
    }
    if let Some(token) = sig.constness.as_ref() {
        return Err(syn::Error::new_spanned(
            token,
            format!("{attr} cannot go on a `const fn`"),
        ));
    }
    if !sig.inputs.is_empty() {
        let what = match kind {
            Entry::Main => "`fn main` takes no arguments",
            Entry::Test => "a test function takes no arguments",
        };
        return Err(syn::Error::new_spanned(&sig.inputs, what));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!("{attr} cannot go on a generic function"),
        ));
    }
    if kind == Entry::Test {
        if let Some(test) = func.attrs.iter().find(|a| is_test_attr(a)) {
            return Err(syn::Error::new_spanned(
                test,
                "#[may::test] already adds `#[test]`: remove this one",
            ));
        }
    }
    Ok(())
}

/// The error for `#[test]` resolving to this attribute.
const BARE_TEST: &str = "this `#[test]` is `#[may::test]` (brought in by `#[macro_use] extern \
     crate may;` or `use may::test;`) and would run the test in a coroutine: write \
     `#[may::test]` if that is meant, or keep std's `#[test]` by removing `#[macro_use]` and \
     importing the macros you use, e.g. `use may::{go, select};`";

/// Whether the attribute was written as a bare `test` (`#[test]`, `#[test(..)]`), which means
/// that `#[macro_use] extern crate may;` or `use may::test;` made it this attribute. `source`
/// is the text of the invocation; `None` (macro-generated code, or a tool without sources)
/// cannot tell, and is accepted.
fn invoked_as_bare_test(source: Option<&str>) -> bool {
    let Some(source) = source else {
        return false;
    };
    let text: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = text
        .strip_prefix("#[")
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(&text);
    let path = inner.split(['(', '=']).next().unwrap_or(inner);
    path == "test"
}

fn is_test_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("test")
}

/// Makes the item as valid as possible after an error, so that only the macro's error shows.
fn fallback(kind: Entry, func: &mut ItemFn) {
    func.sig.asyncness = None;
    if kind == Entry::Main {
        func.sig.inputs.clear();
    }
    if kind == Entry::Test {
        func.attrs.retain(|a| !is_test_attr(a));
        func.attrs.push(syn::parse_quote!(#[allow(dead_code)]));
    }
}

/// The expansion: configure, spawn the body as a coroutine, join it, re-raise its panic.
fn expand(kind: Entry, options: &Options, func: ItemFn) -> TokenStream {
    let rt = options.runtime();
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let ident = &sig.ident;
    let name = LitStr::new(&ident.to_string(), ident.span());

    // A function returning a value returns `ExitCode` instead: the value is reported inside the
    // coroutine (`Termination::report` prints `Error: ...` for an `Err`), so an error type that
    // is not `Send`, such as `Box<dyn Error>`, never has to cross threads.
    let (ret, body) = match &sig.output {
        ReturnType::Default => (quote!(), quote!(move || #block)),
        ReturnType::Type(arrow, ty) => {
            let annotated = match &**ty {
                Type::ImplTrait(_) => quote!(),
                ty => quote!(#arrow #ty),
            };
            (
                quote_spanned!(ty.span()=> -> ::std::process::ExitCode),
                quote! {
                    move || -> ::std::process::ExitCode {
                        ::std::process::Termination::report((move || #annotated #block)())
                    }
                },
            )
        }
    };

    let (configure, builder) = match kind {
        Entry::Main => {
            let workers = options.workers.as_ref().map(|w| quote!(.set_workers(#w)));
            let stack = options.stack.as_ref().map(|s| quote!(.set_stack_size(#s)));
            (
                quote!(#rt::config() #workers #stack;),
                quote!(#rt::coroutine::Builder::new().name(#name)),
            )
        }
        Entry::Test => {
            let stack = options.stack.as_ref().map(|s| quote!(.stack_size(#s)));
            let configure = options
                .workers
                .as_ref()
                .map(|w| workers_for_test(&rt, w, &name, &attrs, !ret.is_empty()));
            (
                quote!(#configure),
                quote!(#rt::coroutine::Builder::new().name(#name) #stack),
            )
        }
    };
    let test_attr = (kind == Entry::Test).then(|| quote!(#[::core::prelude::v1::test]));
    let what = match kind {
        Entry::Main => "the main coroutine",
        Entry::Test => "the test coroutine",
    };
    let asyncness = &sig.asyncness;
    let unsafety = &sig.unsafety;
    quote! {
        #test_attr
        #(#attrs)*
        #vis #asyncness #unsafety fn #ident() #ret {
            #configure
            let __may_body = #body;
            let __may_handle = match #builder.spawn(__may_body) {
                ::core::result::Result::Ok(handle) => handle,
                ::core::result::Result::Err(err) => {
                    ::core::panic!("may: cannot spawn {}: {}", #what, err)
                }
            };
            match __may_handle.join() {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(err) => {
                    ::std::panic::resume_unwind(err.into_panic())
                }
            }
        }
    }
}

/// `#[may::test(workers = N)]`: the runtime is shared by all tests of a binary, so when it
/// already runs with another worker count, the test is run again in a child process of the
/// test binary with `MAY_WORKERS=N` (see `may::__private::test_with_workers`).
fn workers_for_test(
    rt: &TokenStream,
    workers: &syn::Expr,
    name: &LitStr,
    attrs: &[Attribute],
    returns_exit_code: bool,
) -> TokenStream {
    let should_panic = attrs.iter().find(|a| a.path().is_ident("should_panic"));
    let on_outcome = match (should_panic, returns_exit_code) {
        (Some(attr), _) => {
            let expected = expected_message(attr);
            quote! {
                if outcome.is_ok() {
                    ::core::panic!("{}", #expected);
                }
                return;
            }
        }
        (None, true) => quote! {
            return match outcome {
                ::core::result::Result::Ok(()) => ::std::process::ExitCode::SUCCESS,
                ::core::result::Result::Err(why) => ::core::panic!("{}", why),
            };
        },
        (None, false) => quote! {
            if let ::core::result::Result::Err(why) = outcome {
                ::core::panic!("{}", why);
            }
            return;
        },
    };
    quote! {
        if let ::core::option::Option::Some(outcome) =
            #rt::__private::test_with_workers(#workers, ::core::module_path!(), #name)
        {
            #on_outcome
        }
    }
}

/// The `expected = "..."` of a `#[should_panic]`, so that the parent test panics with a message
/// that matches when its child process passed.
fn expected_message(attr: &Attribute) -> TokenStream {
    let mut expected = None;
    if let Meta::List(list) = &attr.meta {
        let _ = list.parse_nested_meta(|meta| {
            if meta.path.is_ident("expected") {
                expected = Some(meta.value()?.parse::<LitStr>()?);
            }
            Ok(())
        });
    }
    if let Meta::NameValue(nv) = &attr.meta {
        expected = syn::parse2::<LitStr>(nv.value.to_token_stream()).ok();
    }
    match expected {
        Some(lit) => lit.to_token_stream(),
        None => quote!("the test panicked in a child process, as expected"),
    }
}

#[cfg(test)]
mod tests {
    use super::invoked_as_bare_test;

    #[test]
    fn a_bare_test_path_is_told_apart_from_may_test() {
        for bare in ["#[test]", "#[ test ]", "#[test(workers = 2)]", "test"] {
            assert!(invoked_as_bare_test(Some(bare)), "{bare}");
        }
        for written_out in [
            "#[may::test]",
            "#[::may::test]",
            "#[my_may::test(workers = 1)]",
            "#[may_test]",
            "#[tests]",
            "#[cfg_attr(all(), test)]",
        ] {
            assert!(!invoked_as_bare_test(Some(written_out)), "{written_out}");
        }
        assert!(!invoked_as_bare_test(None));
    }
}
