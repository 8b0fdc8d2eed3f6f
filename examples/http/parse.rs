//! Request parsing for `http.rs`: the request head (with the framing of its body, RFC 9112
//! section 6), chunk-size lines and the trailer section of a chunked body. Pure functions of a
//! byte slice: `Ok(None)` while the slice holds only the start of what is parsed, so the
//! connection (`conn.rs`) decides when to read more; anything it must refuse is
//! `Err(Stop::Reject(status))`.

use std::mem::MaybeUninit;

use crate::conn::Stop;

/// The most header fields parsed in one head or trailer section; more gets 431.
const MAX_HEADERS: usize = 64;
/// The largest request body accepted, whatever its framing; larger gets 413.
pub const MAX_BODY: u64 = 1024 * 1024;

pub const BAD_REQUEST: &str = "400 Bad Request";
pub const REQUEST_TIMEOUT: &str = "408 Request Timeout";
const LENGTH_REQUIRED: &str = "411 Length Required";
pub const CONTENT_TOO_LARGE: &str = "413 Content Too Large";
pub const HEADER_TOO_LARGE: &str = "431 Request Header Fields Too Large";
const NOT_IMPLEMENTED: &str = "501 Not Implemented";

/// How the body of a request is delimited.
#[derive(Clone, Copy, Debug)]
pub enum Framing {
    Length(u64),
    Chunked,
}

/// What the server needs of a request head, copied out of the input buffer.
#[derive(Debug)]
pub struct Head {
    /// How many bytes the head took.
    pub len: usize,
    /// A HEAD request is answered without the body.
    pub is_head: bool,
    pub framing: Framing,
    pub keep_alive: bool,
    pub http10: bool,
    /// The client waits for "100 Continue" before sending its body (curl does for large ones).
    pub expects_continue: bool,
}

/// Parses a request head; `Ok(None)` while incomplete.
pub fn parse_head(bytes: &[u8]) -> Result<Option<Head>, Stop> {
    // Left uninitialised: httparse writes the ones it fills (no 2 KiB of zeroes per request).
    let mut headers = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    let len = match request.parse_with_uninit_headers(bytes, &mut headers) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Stop::Reject(HEADER_TOO_LARGE)),
        Err(_) => return Err(Stop::Reject(BAD_REQUEST)),
    };
    let method = request.method.unwrap_or_default();
    let http10 = request.version == Some(0);
    let headers = request.headers;
    let has_token = |name: &str, token: &[u8]| {
        headers
            .iter()
            .filter(|header| header.name.eq_ignore_ascii_case(name))
            .flat_map(|header| header.value.split(|&byte| byte == b','))
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token))
    };
    let keep_alive = if http10 {
        has_token("connection", b"keep-alive")
    } else {
        !has_token("connection", b"close")
    };
    Ok(Some(Head {
        len,
        is_head: method == "HEAD",
        framing: framing(method, http10, headers)?,
        keep_alive,
        http10,
        expects_continue: !http10 && has_token("expect", b"100-continue"),
    }))
}

/// Where the body of a request ends (RFC 9112, section 6). Anything ambiguous is refused:
/// two servers that read the length of a message differently is how request smuggling works.
fn framing(method: &str, http10: bool, headers: &[httparse::Header]) -> Result<Framing, Stop> {
    let mut content_length = None;
    let mut transfer_encodings = 0;
    let mut chunked = false;
    for header in headers {
        if header.name.eq_ignore_ascii_case("content-length") {
            // One plain decimal number: no sign, no list, no second header even if equal.
            match (content_length, decimal(header.value)) {
                (None, Some(length)) => content_length = Some(length),
                _ => return Err(Stop::Reject(BAD_REQUEST)),
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            transfer_encodings += 1;
            chunked = header.value.eq_ignore_ascii_case(b"chunked");
        }
    }
    if transfer_encodings > 0 {
        // With a Content-Length too, something on the way may have used the other header;
        // and HTTP/1.0 has no Transfer-Encoding.
        if content_length.is_some() || http10 {
            return Err(Stop::Reject(BAD_REQUEST));
        }
        // "gzip", "gzip, chunked", several headers: codings this server does not decode.
        if !chunked || transfer_encodings > 1 {
            return Err(Stop::Reject(NOT_IMPLEMENTED));
        }
        return Ok(Framing::Chunked);
    }
    match content_length {
        Some(length) if length > MAX_BODY => Err(Stop::Reject(CONTENT_TOO_LARGE)),
        Some(length) => Ok(Framing::Length(length)),
        // Without either header the body is empty by the RFC. A client that sends one anyway
        // would see it parsed as a request, so methods that carry a body must say its length.
        None if matches!(method, "POST" | "PUT" | "PATCH") => Err(Stop::Reject(LENGTH_REQUIRED)),
        None => Ok(Framing::Length(0)),
    }
}

/// Digits only (`str::parse` would take a sign), and no overflow.
fn decimal(digits: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(digits).ok()?;
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses a chunk-size line; returns its length and the chunk size.
pub fn parse_chunk_line(bytes: &[u8]) -> Result<Option<(usize, u64)>, Stop> {
    // httparse reads a line without digits as size 0; a size needs at least one digit.
    if bytes.first().is_some_and(|byte| !byte.is_ascii_hexdigit()) {
        return Err(Stop::Reject(BAD_REQUEST));
    }
    match httparse::parse_chunk_size(bytes) {
        Ok(httparse::Status::Complete(line)) => Ok(Some(line)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(_) => Err(Stop::Reject(BAD_REQUEST)),
    }
}

/// Parses the trailer section after the last chunk; returns its length.
pub fn parse_trailers(bytes: &[u8]) -> Result<Option<usize>, Stop> {
    let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(bytes, &mut trailers) {
        Ok(httparse::Status::Complete((len, _))) => Ok(Some(len)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(Stop::Reject(HEADER_TOO_LARGE)),
        Err(_) => Err(Stop::Reject(BAD_REQUEST)),
    }
}
