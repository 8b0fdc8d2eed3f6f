//! The smallest fast HTTP/1.1 server, in the style of `may_minihttp` (written here): plaintext
//! and JSON answers for benchmarks such as TechEmpower's, one coroutine per connection.
//!
//! ```text
//! cargo run --release -p may --example minihttp -- -t 2 -p 8080
//! wrk -c 100 -t 2 -d 10 http://127.0.0.1:8080/plaintext
//! curl http://127.0.0.1:8080/json                   # {"message":"Hello, World!"}
//! cargo run --release -p may --example minihttp -- --self-test
//! ```
//!
//! The whole loop of a connection: read into a buffer, parse every complete request in it
//! (`httparse`), append every answer to one output buffer, write that buffer with one
//! `write_all`, read again. Pipelined requests (a client sending 16 before it waits) cost one
//! read and one write per batch, and nothing waits in between: a read parks the coroutine only
//! when the socket has nothing to give (may's `read` tries the socket first).
//!
//! It answers `GET /plaintext` (and `/`) and `GET /json`, 404 otherwise; `Content-Length`
//! bodies are skipped, `Transfer-Encoding` bodies refused (501). Limits: an 8 KiB head (431), a
//! 1 MiB body (413). It has no timeouts and no lingering close: `examples/http.rs` is the
//! server to copy for clients that misbehave; this one is the fast path.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::time::{SystemTime, UNIX_EPOCH};

use may::net::{TcpListener, TcpStream};

#[path = "minihttp/self_test.rs"]
mod self_test;

/// The largest request head accepted; larger gets 431.
const MAX_HEAD: usize = 8 * 1024;
/// The largest request body accepted; larger gets 413.
const MAX_BODY: usize = 1024 * 1024;
/// The most header fields parsed in one head; more gets 431.
const MAX_HEADERS: usize = 32;
/// The least room one read is given.
const READ_CHUNK: usize = 4096;

const PLAINTEXT: &[u8] = b"Hello, World!";
const JSON: &[u8] = br#"{"message":"Hello, World!"}"#;

/// What a request asks for.
#[derive(Clone, Copy, Debug)]
enum Route {
    Plaintext,
    Json,
    NotFound,
}

/// One parsed request: how many bytes it took (head and body), what it asks for, and whether
/// the connection stays open after it.
#[derive(Debug)]
struct Request {
    len: usize,
    route: Route,
    keep_alive: bool,
    http10: bool,
}

/// What the buffered bytes start with.
enum Parsed {
    /// A whole request, head and body.
    Complete(Request),
    /// The start of one: read more.
    Partial,
    /// Something to refuse with this status, then close.
    Reject(&'static str),
}

/// Parses the request at the start of `bytes`.
fn parse(bytes: &[u8]) -> Parsed {
    // Left uninitialised: httparse writes the ones it fills (no 1 KiB of zeroes per request).
    let mut headers = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    let head_len = match request.parse_with_uninit_headers(bytes, &mut headers) {
        Ok(httparse::Status::Complete(len)) => len,
        // Everything buffered is this one head: a partial head that fills MAX_HEAD never ends.
        Ok(httparse::Status::Partial) if bytes.len() >= MAX_HEAD => {
            return Parsed::Reject("431 Request Header Fields Too Large")
        }
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(httparse::Error::TooManyHeaders) => {
            return Parsed::Reject("431 Request Header Fields Too Large")
        }
        Err(_) => return Parsed::Reject("400 Bad Request"),
    };
    let http10 = request.version == Some(0);
    let mut keep_alive = !http10;
    let mut body = 0;
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            match std::str::from_utf8(header.value).ok().and_then(decimal) {
                Some(len) if len <= MAX_BODY => body = len,
                Some(_) => return Parsed::Reject("413 Content Too Large"),
                None => return Parsed::Reject("400 Bad Request"),
            }
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Reject("501 Not Implemented");
        } else if header.name.eq_ignore_ascii_case("connection") {
            if header.value.eq_ignore_ascii_case(b"close") {
                keep_alive = false;
            } else if header.value.eq_ignore_ascii_case(b"keep-alive") {
                keep_alive = true;
            }
        }
    }
    if bytes.len() < head_len + body {
        return Parsed::Partial;
    }
    let route = match request.path.unwrap_or_default() {
        "/plaintext" | "/" => Route::Plaintext,
        "/json" => Route::Json,
        _ => Route::NotFound,
    };
    Parsed::Complete(Request {
        len: head_len + body,
        route,
        keep_alive,
        http10,
    })
}

/// A Content-Length: digits only (`str::parse` would take a sign).
fn decimal(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// What every response of a batch shares: the Date, read once per batch, and its buffer.
struct Batch<'a> {
    out: &'a mut Vec<u8>,
    date: [u8; DATE_LEN],
}

/// Appends a response: `status` ("200 OK"), the shared head fields, then `body`.
fn respond(batch: &mut Batch, status: &str, content_type: &[u8], body: &[u8], connection: &[u8]) {
    let date = &batch.date;
    let out = &mut *batch.out;
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_bytes());
    out.extend_from_slice(b"\r\nServer: may\r\nDate: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\nContent-Type: ");
    out.extend_from_slice(content_type);
    out.extend_from_slice(b"\r\nContent-Length: ");
    push_decimal(out, body.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(connection);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// Appends the answer to `request`.
fn answer(out: &mut Batch, request: &Request) {
    let connection: &[u8] = match (request.keep_alive, request.http10) {
        (false, _) => b"Connection: close\r\n",
        (true, true) => b"Connection: keep-alive\r\n",
        (true, false) => b"",
    };
    match request.route {
        Route::Plaintext => respond(out, "200 OK", b"text/plain", PLAINTEXT, connection),
        Route::Json => respond(out, "200 OK", b"application/json", JSON, connection),
        Route::NotFound => respond(out, "404 Not Found", b"text/plain", b"", connection),
    }
}

/// Appends `value` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The length of an IMF-fixdate: "Tue, 01 Dec 2026 04:15:52 GMT".
const DATE_LEN: usize = 29;

thread_local! {
    /// The Date of this second, formatted once per second and worker thread.
    static DATE: Cell<(u64, [u8; DATE_LEN])> = const { Cell::new((u64::MAX, [0; DATE_LEN])) };
}

/// The current time as the Date header wants it (RFC 9110, section 5.6.7).
fn http_date() -> [u8; DATE_LEN] {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    DATE.with(|cache| {
        let (second, text) = cache.get();
        if second == now {
            return text;
        }
        let text = format_date(now);
        cache.set((now, text));
        text
    })
}

/// Formats seconds since 1970 as an IMF-fixdate.
fn format_date(secs: u64) -> [u8; DATE_LEN] {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    // The civil date of a day count (Howard Hinnant's days_from_civil, inverted), in eras of
    // 400 years starting on 1 March.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    let text = format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    let mut out = [b' '; DATE_LEN];
    let len = text.len().min(DATE_LEN);
    out[..len].copy_from_slice(&text.as_bytes()[..len]);
    out
}

/// Serves one connection until the client closes, asks to close, or sends something refused.
fn serve(mut stream: TcpStream) -> io::Result<()> {
    // input[start..end]: received, not parsed yet; input[end..]: room for the next read.
    let mut input = vec![0u8; READ_CHUNK];
    let (mut start, mut end) = (0, 0);
    let mut output = Vec::with_capacity(READ_CHUNK);
    loop {
        if input.len() - end < READ_CHUNK {
            // Once per read, not per request: move the unparsed rest to the front, and grow
            // when a body needs more room than that.
            input.copy_within(start..end, 0);
            (start, end) = (0, end - start);
            if input.len() - end < READ_CHUNK {
                input.resize(end + READ_CHUNK, 0);
            }
        }
        let n = stream.read(&mut input[end..])?;
        if n == 0 {
            return Ok(());
        }
        end += n;
        let mut batch = Batch {
            out: &mut output,
            date: http_date(),
        };
        let mut open = true;
        while open && start < end {
            match parse(&input[start..end]) {
                Parsed::Complete(request) => {
                    answer(&mut batch, &request);
                    start += request.len;
                    open = request.keep_alive;
                }
                Parsed::Partial => break,
                Parsed::Reject(status) => {
                    respond(
                        &mut batch,
                        status,
                        b"text/plain",
                        b"",
                        b"Connection: close\r\n",
                    );
                    open = false;
                }
            }
        }
        // Every answer of the batch in one write.
        if !output.is_empty() {
            stream.write_all(&output)?;
            output.clear();
        }
        if !open {
            return linger(stream);
        }
        if start == end {
            (start, end) = (0, 0);
        }
    }
}

/// Closes after a last answer. The client may still be sending (the rest of a refused head,
/// say), and closing a socket with unread input makes the kernel send a reset, which can
/// destroy the answer before the client reads it: so shut the write side, then discard what
/// still comes for a moment, until the client closes.
fn linger(mut stream: TcpStream) -> io::Result<()> {
    stream.shutdown(std::net::Shutdown::Write)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(1)))?;
    let mut sink = [0u8; READ_CHUNK];
    let mut discarded = 0;
    while discarded < 64 * 1024 {
        match stream.read(&mut sink)? {
            0 => break,
            n => discarded += n,
        }
    }
    Ok(())
}

/// Accepts connections for ever, one coroutine each.
fn accept_loop(listener: &TcpListener) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                may::go!(move || {
                    let _ = serve(stream);
                });
            }
            // Out of descriptors or memory: `examples/http.rs` backs off; this one just waits
            // a moment so that it does not spin.
            Err(err) => {
                eprintln!("minihttp: accept failed: {err}");
                may::coroutine::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

/// Command-line options: `-t workers`, `-p port`, `--self-test`.
struct Options {
    workers: Option<usize>,
    port: u16,
    self_test: bool,
}

fn options() -> Options {
    let mut options = Options {
        workers: None,
        port: 8080,
        self_test: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse().ok());
        match flag.as_str() {
            "-t" => options.workers = Some(value().unwrap_or_else(|| usage())),
            "-p" => options.port = value().map_or_else(|| usage(), |p: usize| p as u16),
            "--self-test" => options.self_test = true,
            _ => usage(),
        }
    }
    options
}

fn usage() -> ! {
    eprintln!("usage: minihttp [-t workers] [-p port] [--self-test]");
    std::process::exit(2);
}

#[may::main(workers = options().workers.unwrap_or_else(|| may::config().workers()))]
fn main() {
    let options = options();
    if options.self_test {
        std::process::exit(self_test::run());
    }
    let listener = match TcpListener::bind(("0.0.0.0", options.port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("minihttp: cannot listen on port {}: {err}", options.port);
            std::process::exit(1);
        }
    };
    println!("minihttp: listening on http://0.0.0.0:{}", options.port);
    accept_loop(&listener);
}
