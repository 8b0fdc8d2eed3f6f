//! Options shared by every macro: `workers = N`, `stack = SIZE`, `name = "..."` and
//! `crate = "path"`, written `key = value` and separated by commas, in any order.
//!
//! Each macro accepts a subset ([`Key`]); parsing checks that a key is known to that macro and
//! given once, validation of the values happens here too (sizes in [`crate::size`]), so the
//! expanders only see well-formed options.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, Lit, LitStr, Path, Token};

use crate::size::Size;

/// The option keys, in the order they are listed in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Workers,
    Stack,
    Name,
    Crate,
}

impl Key {
    fn as_str(self) -> &'static str {
        match self {
            Key::Workers => "workers",
            Key::Stack => "stack",
            Key::Name => "name",
            Key::Crate => "crate",
        }
    }

    fn from_ident(ident: &Ident) -> Option<Key> {
        [Key::Workers, Key::Stack, Key::Name, Key::Crate]
            .into_iter()
            .find(|key| ident == key.as_str())
    }
}

/// The options of one macro invocation, validated.
#[derive(Default)]
pub(crate) struct Options {
    /// `workers = N`: an expression of type `usize` (a literal is checked to be at least 1).
    pub workers: Option<Expr>,
    /// `stack = SIZE`, in bytes.
    pub stack: Option<Size>,
    /// `name = ...`: an expression converting `Into<String>`.
    pub name: Option<Expr>,
    /// `crate = "path"`: where the runtime is; `::may` by default.
    pub krate: Option<Path>,
}

impl Options {
    /// The path of the runtime crate the expansion refers to.
    pub fn runtime(&self) -> TokenStream {
        match &self.krate {
            Some(path) => path.to_token_stream(),
            None => quote!(::may),
        }
    }

    /// `.name(..).stack_size(..)` calls to append to a `Builder` expression.
    pub fn builder_calls(&self) -> TokenStream {
        let name = self.name.as_ref().map(|name| quote!(.name(#name)));
        let stack = self.stack.as_ref().map(|size| quote!(.stack_size(#size)));
        quote!(#name #stack)
    }
}

/// Lists the keys a macro accepts, for error messages: "`stack`, `name` and `crate`".
fn list(allowed: &[Key], conjunction: &str) -> String {
    let names: Vec<String> = allowed
        .iter()
        .map(|k| format!("`{}`", k.as_str()))
        .collect();
    match names.split_last() {
        None => "none".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {conjunction} {}", rest.join(", "), last),
    }
}

/// Parses a whole attribute argument list, such as `workers = 2, stack = "64KiB"`.
pub(crate) fn parse_attr_args(
    args: TokenStream,
    allowed: &[Key],
    macro_name: &str,
) -> syn::Result<Options> {
    let parser = |input: ParseStream| {
        let mut options = Options::default();
        while !input.is_empty() {
            parse_one(input, &mut options, allowed, macro_name)?;
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(options)
    };
    parser.parse2(args)
}

/// Whether the input continues with `key = value` (and not `key == value`), where key is an
/// identifier or `crate`. Used by `go!` and `join!` to tell options from the body.
pub(crate) fn peek_option(input: ParseStream) -> bool {
    let fork = input.fork();
    let is_key = fork.peek(Token![crate]) || fork.peek(Ident);
    if !is_key || fork.call(Ident::parse_any).is_err() {
        return false;
    }
    fork.peek(Token![=]) && !fork.peek(Token![==]) && !fork.peek(Token![=>])
}

/// Parses one `key = value` and stores it in `options`.
pub(crate) fn parse_one(
    input: ParseStream,
    options: &mut Options,
    allowed: &[Key],
    macro_name: &str,
) -> syn::Result<()> {
    let ident = input.call(Ident::parse_any)?;
    let key = Key::from_ident(&ident).filter(|key| allowed.contains(key));
    let Some(key) = key else {
        return Err(syn::Error::new_spanned(
            &ident,
            format!(
                "unknown option `{ident}` for {macro_name}: the valid options are {}",
                list(allowed, "and")
            ),
        ));
    };
    if !input.peek(Token![=]) {
        return Err(syn::Error::new_spanned(
            &ident,
            format!("option `{0}` needs a value: `{0} = ...`", key.as_str()),
        ));
    }
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    let taken = match key {
        Key::Workers => options.workers.is_some(),
        Key::Stack => options.stack.is_some(),
        Key::Name => options.name.is_some(),
        Key::Crate => options.krate.is_some(),
    };
    if taken {
        return Err(syn::Error::new_spanned(
            &ident,
            format!(
                "option `{}` is given twice: give each of {} at most once",
                key.as_str(),
                list(allowed, "or")
            ),
        ));
    }
    match key {
        Key::Workers => options.workers = Some(validate_workers(value)?),
        Key::Stack => options.stack = Some(Size::parse(value)?),
        Key::Name => options.name = Some(validate_name(value)?),
        Key::Crate => options.krate = Some(parse_crate_path(&value)?),
    }
    Ok(())
}

/// `workers` takes a `usize` expression; a literal must be at least 1.
fn validate_workers(value: Expr) -> syn::Result<Expr> {
    if let Expr::Lit(lit) = &value {
        match &lit.lit {
            Lit::Int(int) => {
                let n: u64 = int.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new_spanned(
                        int,
                        "`workers` must be at least 1 (leave the option out to use one worker \
                         per CPU)",
                    ));
                }
            }
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    "`workers` takes a number of worker threads, such as `workers = 4`",
                ))
            }
        }
    }
    Ok(value)
}

/// `name` takes a string; a literal of another kind is refused here rather than by a type error.
fn validate_name(value: Expr) -> syn::Result<Expr> {
    if let Expr::Lit(lit) = &value {
        if !matches!(lit.lit, Lit::Str(_)) {
            return Err(syn::Error::new_spanned(
                &lit.lit,
                "`name` takes a string, such as `name = \"worker\"`",
            ));
        }
    }
    Ok(value)
}

/// `crate` takes a string literal holding a path, like serde's `crate = "..."`.
fn parse_crate_path(value: &Expr) -> syn::Result<Path> {
    let lit: &LitStr = match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "`crate` takes a string literal naming the runtime crate, such as \
                 `crate = \"my_may\"`",
            ))
        }
    };
    // `LitStr::parse` gives the tokens the literal's span, so the path resolves where it is
    // written.
    lit.parse().map_err(|_| {
        syn::Error::new_spanned(
            lit,
            format!("`crate = {:?}` is not a path such as `my_may`", lit.value()),
        )
    })
}
