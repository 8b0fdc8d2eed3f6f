//! Parsing `select!` input into branches.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parenthesized, Expr, Ident, Pat, Token};

/// The message for an empty `select!`.
pub(super) const EMPTY: &str =
    "select! needs at least one branch: `recv(rx) -> msg => ..`, `send(tx, v) -> res => ..`, \
     `pattern = expression => ..` or `default => ..`";

pub(super) enum Kind {
    Recv { chan: Expr },
    Send { chan: Expr, value: Expr },
    General { expr: Expr },
}

pub(super) struct Branch {
    pub(super) kind: Kind,
    pub(super) pat: Pat,
    pub(super) body: Expr,
}

pub(super) struct Default {
    pub(super) timeout: Option<Expr>,
    pub(super) body: Expr,
}

pub(super) struct SelectInput {
    pub(super) biased: bool,
    pub(super) branches: Vec<Branch>,
    pub(super) default: Option<Default>,
}

/// A branch body: a block, optionally followed by a comma, or an expression followed by a comma
/// unless it is the last branch.
fn parse_body(input: ParseStream) -> syn::Result<Expr> {
    let body: Expr = input.parse()?;
    if input.is_empty() {
        return Ok(body);
    }
    if matches!(body, Expr::Block(_)) {
        let _ = input.parse::<Option<Token![,]>>()?;
    } else {
        input
            .parse::<Token![,]>()
            .map_err(|_| input.error("expected `,` after a branch body that is not a block"))?;
    }
    Ok(body)
}

/// Whether the input starts with the branch keyword `word` (followed by `(` or `=>`).
fn peek_keyword(input: ParseStream, word: &str) -> bool {
    let fork = input.fork();
    match fork.parse::<Ident>() {
        Ok(ident) if ident == word => fork.peek(syn::token::Paren) || fork.peek(Token![=>]),
        _ => false,
    }
}

/// `default => ..`, `default() => ..` (the same, as crossbeam allows) or `default(timeout) => ..`.
fn parse_default(input: ParseStream) -> syn::Result<(Ident, Default)> {
    let keyword: Ident = input.parse()?;
    let mut timeout = None;
    if input.peek(syn::token::Paren) {
        let content;
        let parens = parenthesized!(content in input);
        let mut args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
        if args.len() > 1 {
            return Err(syn::Error::new(
                parens.span.join(),
                "`default` takes at most one argument, the timeout: \
                 `default(Duration::from_millis(50)) => ..`",
            ));
        }
        timeout = args.pop().map(|pair| pair.into_value());
    }
    input.parse::<Token![=>]>()?;
    let body = parse_body(input)?;
    Ok((keyword, Default { timeout, body }))
}

/// `recv(rx) -> pat => ..` or `send(tx, value) -> pat => ..`.
fn parse_channel_branch(input: ParseStream) -> syn::Result<Branch> {
    let keyword: Ident = input.parse()?;
    let content;
    let parens = parenthesized!(content in input);
    let args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    let mut args = args.into_iter();
    let kind = match (keyword == "recv", args.next(), args.next(), args.next()) {
        (true, Some(chan), None, None) => Kind::Recv { chan },
        (false, Some(chan), Some(value), None) => Kind::Send { chan, value },
        (true, ..) => {
            return Err(syn::Error::new(
                parens.span.join(),
                "`recv` takes one argument, the receiver: `recv(rx) -> msg => ..`",
            ))
        }
        (false, ..) => {
            return Err(syn::Error::new(
                parens.span.join(),
                "`send` takes two arguments, the sender and the value: \
                 `send(tx, value) -> res => ..`",
            ))
        }
    };
    input.parse::<Token![->]>().map_err(|_| {
        syn::Error::new_spanned(
            &keyword,
            format!("expected `-> pattern` after `{keyword}(..)`"),
        )
    })?;
    let pat = Pat::parse_multi_with_leading_vert(input)?;
    input.parse::<Token![=>]>()?;
    let body = parse_body(input)?;
    Ok(Branch { kind, pat, body })
}

/// `pattern = expression => ..`.
fn parse_general_branch(input: ParseStream) -> syn::Result<Branch> {
    let pat = Pat::parse_multi_with_leading_vert(input)?;
    input.parse::<Token![=]>().map_err(|_| {
        input.error(
            "expected a select! branch: `recv(rx) -> msg => ..`, \
             `send(tx, v) -> res => ..`, `pattern = expression => ..`, or `default => ..`",
        )
    })?;
    let expr: Expr = input.parse()?;
    input.parse::<Token![=>]>()?;
    let body = parse_body(input)?;
    Ok(Branch {
        kind: general_kind(expr),
        pat,
        body,
    })
}

/// The kind of `pat = expr`: `rx.recv()`, as may 0.3's `select!` branches wrote a channel
/// receive, is the native `recv(rx)` (nothing lost when another branch wins, no need for the
/// receiver to be `Sync`), and `pat` gets `Result<T, RecvError>`, the type of `rx.recv()`.
/// Anything else, including `(x.recv())` in parentheses, is general.
fn general_kind(expr: Expr) -> Kind {
    match expr {
        Expr::MethodCall(call)
            if call.method == "recv"
                && call.args.is_empty()
                && call.turbofish.is_none()
                && call.attrs.is_empty() =>
        {
            Kind::Recv {
                chan: *call.receiver,
            }
        }
        // The parentheses only say "general"; without them the closure does not trip
        // `unused_parens`.
        Expr::Paren(paren) if paren.attrs.is_empty() => Kind::General { expr: *paren.expr },
        expr => Kind::General { expr },
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
                let (keyword, parsed) = parse_default(input)?;
                if default.is_some() {
                    return Err(syn::Error::new_spanned(
                        &keyword,
                        "select! takes at most one `default` branch",
                    ));
                }
                default = Some(parsed);
            } else if peek_keyword(input, "recv") || peek_keyword(input, "send") {
                branches.push(parse_channel_branch(input)?);
            } else {
                branches.push(parse_general_branch(input)?);
            }
        }
        if branches.is_empty() && default.is_none() {
            return Err(syn::Error::new(Span::call_site(), EMPTY));
        }
        Ok(SelectInput {
            biased,
            branches,
            default,
        })
    }
}
