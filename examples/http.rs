//! An HTTP/1.1 "hello world" server that is safe to copy: one coroutine per connection, written
//! as plain blocking code, parsing requests with `httparse`, with keep-alive and pipelining.
//!
//! ```text
//! cargo run --release -p may --example http -- -t 2 -p 8080
//! wrk -c 100 -t 2 -d 10 http://127.0.0.1:8080/
//! curl -d 'hello' http://127.0.0.1:8080/            # "received 5 body bytes"
//! cargo run --release -p may --example http -- --self-test
//! ```
//!
//! What a server exposed to real clients needs beyond parsing a request head:
//! - Request bodies are read before the next request is parsed: `Content-Length` bodies are
//!   read whole, `Transfer-Encoding: chunked` ones decoded. A POST, PUT or PATCH with neither
//!   header gets 411; a repeated or invalid `Content-Length`, or both headers, get 400; other
//!   transfer codings get 501. Otherwise a body would be parsed as a request of its own.
//! - Limits: a head (or chunked trailer) over 8 KiB gets 431, a body over 1 MiB gets 413.
//! - Timeouts: a connection waiting for its next request is closed after `--idle-timeout`; a
//!   request whose head and body take longer than `--request-timeout` to arrive (a client
//!   trickling bytes) gets 408; a write that cannot proceed for `--write-timeout` closes.
//! - Every error answer closes the connection: after a framing error nobody knows where the
//!   next request would start.
//! - The accept loop backs off when out of descriptors or memory instead of spinning.
//!
//! `--self-test` runs the server on a loopback port and checks all of this (`http/self_test.rs`).

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use may::coroutine;
use may::net::{TcpListener, TcpStream};

// The checks of `--self-test`; kept apart so that this file is the server alone.
#[path = "http/self_test.rs"]
mod self_test;

/// The largest request head (request line and headers) accepted; larger gets 431. The same
/// bound applies to a chunk-size line and to the trailer section of a chunked body.
const MAX_HEAD: usize = 8 * 1024;
/// The most header fields parsed in one head or trailer section; more gets 431.
const MAX_HEADERS: usize = 64;
/// The largest request body accepted, whatever its framing; larger gets 413.
const MAX_BODY: u64 = 1024 * 1024;
/// How many bytes one read asks for.
const READ_CHUNK: usize = 4096;
/// How long and how much a closing connection keeps reading and discarding (see `close`).
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 64 * 1024;
/// The first and the longest pause of the accept loop after an accept error.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

const BAD_REQUEST: &str = "400 Bad Request";
const REQUEST_TIMEOUT: &str = "408 Request Timeout";
const LENGTH_REQUIRED: &str = "411 Length Required";
const CONTENT_TOO_LARGE: &str = "413 Content Too Large";
const HEADER_TOO_LARGE: &str = "431 Request Header Fields Too Large";
const NOT_IMPLEMENTED: &str = "501 Not Implemented";

/// The timeouts of every connection (command-line options).
#[derive(Clone, Copy, Debug)]
struct Timeouts {
    /// How long a connection may wait for the first byte of its next request.
    idle: Duration,
    /// How long a request may take to arrive, head and body, from its first byte on.
    request: Duration,
    /// How long one write may wait for the client to make room.
    write: Duration,
}

const DEFAULT_TIMEOUTS: Timeouts = Timeouts {
    idle: Duration::from_secs(5),
    request: Duration::from_secs(10),
    write: Duration::from_secs(10),
};

/// Why a connection stops serving requests.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// Answer with this status (e.g. "400 Bad Request"), then close.
    Reject(&'static str),
    /// Close without a word: the client left or asked to close, the connection stayed idle,
    /// or the socket failed.
    Close,
}

impl From<std::io::Error> for Stop {
    fn from(_: std::io::Error) -> Stop {
        Stop::Close
    }
}

/// How the body of a request is delimited.
#[derive(Clone, Copy, Debug)]
enum Framing {
    Length(u64),
    Chunked,
}

/// What the server needs of a request head, copied out of the input buffer.
#[derive(Debug)]
struct Head {
    /// How many bytes the head took.
    len: usize,
    /// A HEAD request is answered without the body.
    is_head: bool,
    framing: Framing,
    keep_alive: bool,
    http10: bool,
    /// The client waits for "100 Continue" before sending its body (curl does for large ones).
    expects_continue: bool,
}

/// One client connection and its buffers.
struct Connection {
    stream: TcpStream,
    timeouts: Timeouts,
    /// Bytes received and not consumed yet: the rest of this request and pipelined ones.
    input: Vec<u8>,
    /// Responses not written yet. They are written before each read, so the answers to
    /// pipelined requests go out in one write, and never later than the client waits for them.
    output: Vec<u8>,
    /// When the request being read must have arrived completely.
    deadline: Instant,
}

impl Connection {
    fn new(stream: TcpStream, timeouts: Timeouts) -> Connection {
        Connection {
            stream,
            timeouts,
            input: Vec::with_capacity(READ_CHUNK),
            output: Vec::with_capacity(READ_CHUNK),
            deadline: Instant::now(),
        }
    }

    /// Serves requests until the client leaves, asks to close, misbehaves or times out.
    fn serve(mut self) {
        if let Err(Stop::Reject(status)) = self.serve_requests() {
            self.queue_response(status, "", None);
        }
        self.close();
    }

    /// Serves requests until one of them ends the connection; `Err` says how.
    fn serve_requests(&mut self) -> Result<(), Stop> {
        // Each write may wait this long for room: a client that stops reading is dropped.
        self.stream.set_write_timeout(Some(self.timeouts.write))?;
        while self.serve_request()? {}
        Ok(())
    }

    /// Reads one request, head and body, and queues its response. Returns whether the
    /// connection stays open for the next one.
    fn serve_request(&mut self) -> Result<bool, Stop> {
        if self.input.is_empty() {
            // Between requests: a client that sends nothing for a while is just let go.
            let idle_deadline = Instant::now() + self.timeouts.idle;
            self.fill(idle_deadline, Stop::Close)?;
        }
        // From the request's first byte on, head and body must arrive within one deadline:
        // a per-read timeout alone never fires for a client sending a byte at a time.
        self.deadline = Instant::now() + self.timeouts.request;
        let head = self.read_parsed(HEADER_TOO_LARGE, parse_head)?;
        self.input.drain(..head.len);

        let has_body = !matches!(head.framing, Framing::Length(0));
        if head.expects_continue && has_body {
            // Goes out with the next flush, before the server waits for the body.
            self.output
                .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let body = match head.framing {
            Framing::Length(len) => self.read_sized_body(len)?,
            Framing::Chunked => self.read_chunked_body()?,
        };

        // The application: greet, or say how much was received.
        let text = if body.is_empty() {
            "Hello, world!".to_string()
        } else {
            format!("received {} body bytes", body.len())
        };
        self.queue_response("200 OK", &text, Some(&head));
        Ok(head.keep_alive)
    }

    /// Parses something at the start of `input` with `parse` (which returns `Ok(None)` while
    /// it needs more bytes), reading until it is complete. It must fit in `MAX_HEAD` bytes,
    /// else the request is rejected with `too_large`.
    fn read_parsed<T>(
        &mut self,
        too_large: &'static str,
        parse: impl Fn(&[u8]) -> Result<Option<T>, Stop>,
    ) -> Result<T, Stop> {
        loop {
            // Pipelined requests may follow, so only the first MAX_HEAD bytes are looked at.
            let window = &self.input[..self.input.len().min(MAX_HEAD)];
            if let Some(parsed) = parse(window)? {
                return Ok(parsed);
            }
            if window.len() == MAX_HEAD {
                return Err(Stop::Reject(too_large));
            }
            self.fill_request()?;
        }
    }

    /// Reads a body of exactly `len` bytes (`len` was checked against `MAX_BODY`).
    fn read_sized_body(&mut self, len: u64) -> Result<Vec<u8>, Stop> {
        let len = usize::try_from(len).map_err(|_| Stop::Reject(CONTENT_TOO_LARGE))?;
        while self.input.len() < len {
            self.fill_request()?;
        }
        Ok(self.input.drain(..len).collect())
    }

    /// Decodes a chunked body (RFC 9112, section 7.1): chunks `SIZE[;extensions]\r\nDATA\r\n`,
    /// a last chunk of size 0, then trailer fields (ignored here) and an empty line.
    fn read_chunked_body(&mut self) -> Result<Vec<u8>, Stop> {
        let mut body = Vec::new();
        loop {
            let (line_len, size) = self.read_parsed(BAD_REQUEST, parse_chunk_line)?;
            self.input.drain(..line_len);
            if size == 0 {
                break;
            }
            if body.len() as u64 + size > MAX_BODY {
                return Err(Stop::Reject(CONTENT_TOO_LARGE));
            }
            let size = size as usize; // at most MAX_BODY, checked above
            while self.input.len() < size + 2 {
                self.fill_request()?;
            }
            if &self.input[size..size + 2] != b"\r\n" {
                return Err(Stop::Reject(BAD_REQUEST));
            }
            body.extend_from_slice(&self.input[..size]);
            self.input.drain(..size + 2);
        }
        let trailer_len = self.read_parsed(HEADER_TOO_LARGE, parse_trailers)?;
        self.input.drain(..trailer_len);
        Ok(body)
    }

    /// Reads more of the current request; its deadline passing is answered with 408.
    fn fill_request(&mut self) -> Result<(), Stop> {
        self.fill(self.deadline, Stop::Reject(REQUEST_TIMEOUT))
    }

    /// Writes the queued responses, then reads more bytes into `input`, waiting at most until
    /// `deadline` (then fails with `on_timeout`). End of stream and errors fail with `Close`.
    fn fill(&mut self, deadline: Instant, on_timeout: Stop) -> Result<(), Stop> {
        // The client may wait for these answers before it sends anything more.
        self.flush()?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(on_timeout);
        }
        // A read timeout bounds one read call, so it is set to what is left of the deadline.
        self.stream.set_read_timeout(Some(left))?;
        let mut chunk = [0u8; READ_CHUNK];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(Stop::Close),
            Ok(n) => {
                self.input.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            // std and may report a read timeout as WouldBlock on Unix; TimedOut elsewhere.
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(on_timeout)
            }
            Err(_) => Err(Stop::Close),
        }
    }

    /// Writes the queued responses. They are dropped even if the write fails: the connection
    /// is closed then, and trying again would wait for the write timeout a second time.
    fn flush(&mut self) -> std::io::Result<()> {
        let written = self.stream.write_all(&self.output);
        self.output.clear();
        written
    }

    /// Queues a response with a plain-text body, answering `request`, or with `None` an
    /// error that closes the connection.
    fn queue_response(&mut self, status: &str, text: &str, request: Option<&Head>) {
        let connection = match request {
            Some(head) if !head.keep_alive => "Connection: close\r\n",
            // HTTP/1.0 closes after each response unless told otherwise.
            Some(head) if head.http10 => "Connection: keep-alive\r\n",
            Some(_) => "",
            None => "Connection: close\r\n",
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{connection}\r\n",
            text.len()
        );
        self.output.extend_from_slice(head.as_bytes());
        // A response to HEAD announces the body's length but does not send the body.
        if !request.is_some_and(|head| head.is_head) {
            self.output.extend_from_slice(text.as_bytes());
        }
    }

    /// Writes what is queued and closes. The client may still be sending (the rest of a body
    /// that was refused, say); closing a socket with unread input makes the kernel answer
    /// with a reset, which can destroy the response before the client reads it. So the write
    /// side is shut first and what arrives is discarded for a moment, until the client closes.
    fn close(mut self) {
        // Only a last answer needs that; an idle or vanished client is just let go.
        let answered = !self.output.is_empty();
        if self.flush().is_err() || !answered || self.stream.shutdown(Shutdown::Write).is_err() {
            return;
        }
        let deadline = Instant::now() + LINGER_TIME;
        let mut discarded = 0;
        while discarded < LINGER_BYTES {
            self.input.clear();
            if self.fill(deadline, Stop::Close).is_err() {
                break;
            }
            discarded += self.input.len();
        }
    }
}

/// Parses a request head; `Ok(None)` while incomplete.
fn parse_head(bytes: &[u8]) -> Result<Option<Head>, Stop> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(bytes) {
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
fn parse_chunk_line(bytes: &[u8]) -> Result<Option<(usize, u64)>, Stop> {
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
fn parse_trailers(bytes: &[u8]) -> Result<Option<usize>, Stop> {
    let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(bytes, &mut trailers) {
        Ok(httparse::Status::Complete((len, _))) => Ok(Some(len)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(Stop::Reject(HEADER_TOO_LARGE)),
        Err(_) => Err(Stop::Reject(BAD_REQUEST)),
    }
}

/// Accepts connections for ever, one coroutine each.
fn accept_loop(listener: &TcpListener, timeouts: Timeouts) {
    let mut backoff = Duration::ZERO;
    loop {
        let spawned = listener.accept().and_then(|(stream, _)| {
            let _ = stream.set_nodelay(true);
            // Builder::spawn reports a failure to map a stack, where go! would panic.
            coroutine::Builder::new().spawn(move || Connection::new(stream, timeouts).serve())
        });
        let Err(err) = spawned else {
            backoff = Duration::ZERO;
            continue;
        };
        match err.kind() {
            // That client left before it was accepted, or a signal came: nothing to wait for.
            ErrorKind::ConnectionAborted | ErrorKind::Interrupted => {}
            // EMFILE, ENFILE, ENOBUFS, ENOMEM and the like: the connection stays queued and the
            // listener ready, so retrying at once would fail again and again at 100% of a core
            // until descriptors or memory are freed. Wait twice as long each time instead, up
            // to a second, and log the first failure, then once per longest wait.
            _ => {
                backoff = (backoff * 2).clamp(ACCEPT_BACKOFF_MIN, ACCEPT_BACKOFF_MAX);
                if backoff == ACCEPT_BACKOFF_MIN || backoff == ACCEPT_BACKOFF_MAX {
                    eprintln!("http: accept failed: {err}; retrying in {backoff:?}");
                }
                coroutine::sleep(backoff);
            }
        }
    }
}

/// Command-line options.
struct Options {
    workers: Option<usize>,
    port: u16,
    timeouts: Timeouts,
    self_test: bool,
}

const USAGE: &str = "usage: http [-t workers] [-p port] [--idle-timeout SECS] \
                     [--request-timeout SECS] [--write-timeout SECS] [--self-test]";

/// Reads the options; exits with the usage on a bad one.
fn options() -> Options {
    let (mut workers, mut port, mut self_test) = (None, 8080, false);
    let (mut idle, mut request, mut write) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "-t" => workers = Some(parsed(args.next())),
            "-p" => port = parsed(args.next()),
            "--idle-timeout" => idle = Some(seconds(args.next())),
            "--request-timeout" => request = Some(seconds(args.next())),
            "--write-timeout" => write = Some(seconds(args.next())),
            "--self-test" => self_test = true,
            _ => usage(),
        }
    }
    let defaults = if self_test {
        self_test::TIMEOUTS
    } else {
        DEFAULT_TIMEOUTS
    };
    Options {
        workers,
        port,
        timeouts: Timeouts {
            idle: idle.unwrap_or(defaults.idle),
            request: request.unwrap_or(defaults.request),
            write: write.unwrap_or(defaults.write),
        },
        self_test,
    }
}

fn parsed<T: std::str::FromStr>(value: Option<String>) -> T {
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| usage())
}

/// A timeout in seconds, fractions allowed, from a millisecond to a day.
fn seconds(value: Option<String>) -> Duration {
    let seconds: f64 = parsed(value);
    if !(0.001..=86_400.0).contains(&seconds) {
        usage();
    }
    Duration::from_secs_f64(seconds)
}

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2);
}

#[may::main(workers = options().workers.unwrap_or_else(|| may::config().workers()))]
fn main() {
    let options = options();
    if options.self_test {
        std::process::exit(self_test::run(options.timeouts));
    }
    let listener = match TcpListener::bind(("0.0.0.0", options.port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("http: cannot listen on port {}: {err}", options.port);
            std::process::exit(1);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("http: listening on http://{addr}"),
        Err(err) => eprintln!("http: {err}"),
    }
    accept_loop(&listener, options.timeouts);
}
