//! The request/response checks of `--self-test` (`self_test.rs` runs them): each sends
//! requests, in one write or in parts that arrive in separate reads, and expects exact
//! responses in order, then the connection kept open or closed. Also the blocking test client
//! every check uses.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

/// The longest a client waits for the server; past it the check fails.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause between the parts of a request, so that they arrive in separate reads.
const PART_PAUSE: Duration = Duration::from_millis(20);

pub const GET: &str = "GET / HTTP/1.1\r\nHost: self-test\r\n\r\n";
pub const HELLO: &str = "Hello, world!";

/// A check's result: what was seen, or why it failed.
pub type Outcome = Result<String, String>;

/// A response the server must send: its status line and body; `None` when it has no body
/// (the answer to HEAD announces a length but sends nothing).
struct Expected {
    status: &'static str,
    body: Option<String>,
}

fn hello() -> Expected {
    Expected {
        status: "HTTP/1.1 200 OK",
        body: Some(HELLO.to_string()),
    }
}

fn received(bytes: usize) -> Expected {
    Expected {
        status: "HTTP/1.1 200 OK",
        body: Some(format!("received {bytes} body bytes")),
    }
}

fn rejected(status: &'static str) -> Expected {
    Expected {
        status,
        body: Some(String::new()),
    }
}

fn bodiless(status: &'static str) -> Expected {
    Expected { status, body: None }
}

/// Sends `parts` with pauses between them, expects `responses` in order, then the connection
/// kept open (`stays_open`) or closed by the server.
pub struct Exchange {
    pub name: &'static str,
    parts: Vec<Vec<u8>>,
    responses: Vec<Expected>,
    stays_open: bool,
}

fn exchange(
    name: &'static str,
    parts: &[&str],
    responses: Vec<Expected>,
    stays_open: bool,
) -> Exchange {
    Exchange {
        name,
        parts: parts.iter().map(|part| part.as_bytes().to_vec()).collect(),
        responses,
        stays_open,
    }
}

pub fn exchanges() -> Vec<Exchange> {
    const OPEN: bool = true;
    const CLOSED: bool = false;
    const HOST: &str = "Host: self-test\r\n";
    // A body that is itself a request: a server that skips bodies would answer it.
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: self-test\r\n\r\n";
    let (smuggled_start, smuggled_rest) = smuggled.split_at(10);
    let post = |rest: &str| format!("POST / HTTP/1.1\r\n{HOST}{rest}");
    let sized = post(&format!("Content-Length: {}\r\n\r\n", smuggled.len()));
    let chunked = post("Transfer-Encoding: chunked\r\n\r\n");
    // 16 requests in one write, each answered differently (POST bodies of 0 to 15 bytes), so
    // that an answer out of order or missing shows.
    let batch: String = (0..16)
        .map(|len| {
            format!(
                "{}{}",
                post(&format!("Content-Length: {len}\r\n\r\n")),
                "x".repeat(len)
            )
        })
        .collect();
    let batch_answers = (0..16)
        .map(|len| if len == 0 { hello() } else { received(len) })
        .collect();
    let big_header = format!(
        "GET / HTTP/1.1\r\n{HOST}X-Big: {}\r\n\r\n",
        "a".repeat(9 * 1024)
    );
    vec![
        exchange("GET", &[GET], vec![hello()], OPEN),
        exchange(
            "two pipelined GETs in one write",
            &[&format!("{GET}{GET}")],
            vec![hello(), hello()],
            OPEN,
        ),
        exchange(
            "16 pipelined requests in one write get 16 answers in order",
            &[&batch],
            batch_answers,
            OPEN,
        ),
        exchange(
            "POST whose request-like body is split across writes, then a GET in the same write",
            &[
                &format!("{sized}{smuggled_start}"),
                &format!("{smuggled_rest}{GET}"),
            ],
            vec![received(smuggled.len()), hello()],
            OPEN,
        ),
        exchange(
            "chunked POST (extension, chunk split across writes, trailer), then a GET",
            &[
                &format!("{chunked}5;name=\"value\"\r\nhel"),
                &format!("lo\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n{GET}"),
            ],
            vec![received(11), hello()],
            OPEN,
        ),
        exchange(
            "Expect: 100-continue",
            &[
                &post("Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"),
                "hello",
            ],
            vec![bodiless("HTTP/1.1 100 Continue"), received(5)],
            OPEN,
        ),
        exchange(
            "HEAD then GET in one write",
            &[&format!("HEAD / HTTP/1.1\r\n{HOST}\r\n{GET}")],
            vec![bodiless("HTTP/1.1 200 OK"), hello()],
            OPEN,
        ),
        exchange(
            "HTTP/1.0 with Connection: keep-alive",
            &["GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"],
            vec![hello()],
            OPEN,
        ),
        exchange(
            "HTTP/1.0 without keep-alive",
            &["GET / HTTP/1.0\r\n\r\n"],
            vec![hello()],
            CLOSED,
        ),
        exchange(
            "Connection: close",
            &[&format!(
                "GET / HTTP/1.1\r\n{HOST}Connection: close\r\n\r\n"
            )],
            vec![hello()],
            CLOSED,
        ),
        exchange(
            "a 9 KiB header",
            &[&big_header],
            vec![rejected("HTTP/1.1 431 Request Header Fields Too Large")],
            CLOSED,
        ),
        exchange(
            "garbage (the start of a TLS handshake)",
            &["\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0} hello\r\n\r\n"],
            vec![rejected("HTTP/1.1 400 Bad Request")],
            CLOSED,
        ),
        exchange(
            "POST with a body but no length",
            &[&post(&format!("\r\n{GET}"))],
            vec![rejected("HTTP/1.1 411 Length Required")],
            CLOSED,
        ),
        exchange(
            "two equal Content-Length headers",
            &[&post("Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello")],
            vec![rejected("HTTP/1.1 400 Bad Request")],
            CLOSED,
        ),
        exchange(
            "a negative Content-Length",
            &[&post("Content-Length: -5\r\n\r\nhello")],
            vec![rejected("HTTP/1.1 400 Bad Request")],
            CLOSED,
        ),
        exchange(
            "Content-Length and Transfer-Encoding together",
            &[&post(
                "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
            )],
            vec![rejected("HTTP/1.1 400 Bad Request")],
            CLOSED,
        ),
        exchange(
            "Transfer-Encoding: gzip",
            &[&post("Transfer-Encoding: gzip\r\n\r\n")],
            vec![rejected("HTTP/1.1 501 Not Implemented")],
            CLOSED,
        ),
        exchange(
            "a Content-Length over 1 MiB",
            &[&post("Content-Length: 2000000\r\n\r\nhello")],
            vec![rejected("HTTP/1.1 413 Content Too Large")],
            CLOSED,
        ),
        exchange(
            "a chunk over 1 MiB",
            &[&format!("{chunked}200000\r\nhello")],
            vec![rejected("HTTP/1.1 413 Content Too Large")],
            CLOSED,
        ),
        exchange(
            "an invalid chunk size",
            &[&format!("{chunked}zz\r\nhello\r\n0\r\n\r\n")],
            vec![rejected("HTTP/1.1 400 Bad Request")],
            CLOSED,
        ),
    ]
}

pub fn run_exchange(addr: SocketAddr, exchange: &Exchange) -> Outcome {
    let mut client = Client::connect(addr)?;
    for (i, part) in exchange.parts.iter().enumerate() {
        if i > 0 {
            thread::sleep(PART_PAUSE);
        }
        client.send(part)?;
    }
    let mut seen = Vec::new();
    for expected in &exchange.responses {
        let (status, body) = client.response(expected.body.is_none())?;
        if status != expected.status || expected.body.as_ref().is_some_and(|b| *b != body) {
            return Err(format!(
                "got {status:?} {body:?}, expected {:?} {:?} (after {seen:?})",
                expected.status, expected.body
            ));
        }
        // "HTTP/1.1 200 OK" is shown as "200 OK".
        seen.push(status.get(9..).unwrap_or(&status).to_string());
    }
    if exchange.stays_open {
        // The connection still serves a request, and that request gets the next response:
        // nothing else was answered in between (a body read as a request would show here).
        client.send("GET / HTTP/1.1\r\nHost: self-test\r\nConnection: close\r\n\r\n")?;
        let (status, body) = client.response(false)?;
        if status != "HTTP/1.1 200 OK" || body != HELLO {
            return Err(format!("kept open, but then got {status:?} {body:?}"));
        }
    }
    client.expect_closed()?;
    let state = if exchange.stays_open {
        "kept open"
    } else {
        "then closed"
    };
    Ok(format!("{}, {state}", seen.join(", ")))
}

/// A blocking test client that reads responses one at a time.
pub struct Client {
    pub stream: TcpStream,
    /// Received bytes not parsed yet.
    pub input: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Result<Client, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
        let client = Client {
            stream,
            input: Vec::new(),
        };
        client.set_read_timeout(CLIENT_TIMEOUT)?;
        client
            .stream
            .set_nodelay(true)
            .and_then(|_| client.stream.set_write_timeout(Some(CLIENT_TIMEOUT)))
            .map_err(|e| format!("socket options: {e}"))?;
        Ok(client)
    }

    pub fn set_read_timeout(&self, timeout: Duration) -> Result<(), String> {
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| format!("set_read_timeout: {e}"))
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> Result<(), String> {
        self.stream
            .write_all(bytes.as_ref())
            .map_err(|e| format!("send: {e}"))
    }

    /// Reads what is available into `input`; `Ok(false)` at end of stream.
    pub fn read_some(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk)?;
        self.input.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// Reads one response: its status line and body. A 1xx response has no body, and neither
    /// has the answer to HEAD (`bodiless`), whatever its Content-Length says.
    pub fn response(&mut self, bodiless: bool) -> Result<(String, String), String> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut response = httparse::Response::new(&mut headers);
            let parsed = match response.parse(&self.input) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let code = response.code.unwrap_or_default();
                    let status = format!(
                        "HTTP/1.{} {code} {}",
                        response.version.unwrap_or_default(),
                        response.reason.unwrap_or_default()
                    );
                    let length = response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok());
                    let body_len = match (bodiless || code < 200, length) {
                        (true, _) => 0,
                        (false, Some(length)) => length,
                        (false, None) => return Err(format!("{status:?} without Content-Length")),
                    };
                    Some((status, head_len, body_len))
                }
                Ok(httparse::Status::Partial) => None,
                Err(err) => {
                    let text = String::from_utf8_lossy(&self.input);
                    return Err(format!("unparsable response ({err}): {text:?}"));
                }
            };
            if let Some((status, head_len, body_len)) = parsed {
                if self.input.len() >= head_len + body_len {
                    let body = self.input[head_len..head_len + body_len].to_vec();
                    self.input.drain(..head_len + body_len);
                    return Ok((status, String::from_utf8_lossy(&body).into_owned()));
                }
            }
            match self.read_some() {
                Ok(true) => {}
                Ok(false) => return Err("closed before a complete response".to_string()),
                Err(err) => return Err(format!("waiting for a response: {err}")),
            }
        }
    }

    /// Expects the server to close the connection (a clean end of stream, not a reset) with
    /// nothing more sent.
    pub fn expect_closed(&mut self) -> Result<(), String> {
        loop {
            if !self.input.is_empty() {
                let extra = String::from_utf8_lossy(&self.input);
                return Err(format!("unexpected bytes before the close: {extra:?}"));
            }
            match self.read_some() {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(err) => return Err(format!("{err} instead of a clean close")),
            }
        }
    }
}
