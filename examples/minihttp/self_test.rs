//! `--self-test` of `minihttp.rs`: runs the server on a loopback port in this process and
//! checks, from a client thread using std's blocking sockets, that every request gets exactly
//! one answer, in order: plain requests, pipelined batches (16 requests per write) and
//! requests split across reads. Each exchange ends with a `Connection: close` request, so the
//! server closes and the client counts every response up to the end of the stream: one extra
//! or missing answer fails. Every wait is bounded (client timeouts), so a broken server fails,
//! not hangs. Prints one line per check and a total; the exit status is 1 if a check failed.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use may::coroutine;
use may::net::TcpListener;

use super::{accept_loop, JSON, PLAINTEXT};

/// The longest a client waits for the server; past it the check fails.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause between the parts of an exchange, so that they arrive in separate reads.
const PART_PAUSE: Duration = Duration::from_millis(20);

const GET: &str = "GET /plaintext HTTP/1.1\r\nHost: self-test\r\n\r\n";
const LAST: &str = "GET /plaintext HTTP/1.1\r\nHost: self-test\r\nConnection: close\r\n\r\n";

/// One response as the client saw it.
#[derive(Debug, PartialEq)]
struct Response {
    code: u16,
    body: Vec<u8>,
}

fn ok(body: &[u8]) -> Response {
    Response {
        code: 200,
        body: body.to_vec(),
    }
}

fn status(code: u16) -> Response {
    Response {
        code,
        body: Vec::new(),
    }
}

/// Sends `parts` with pauses between them, reads until the server closes, and compares every
/// response with `expected`.
struct Check {
    name: &'static str,
    parts: Vec<String>,
    expected: Vec<Response>,
}

fn checks() -> Vec<Check> {
    let batch = GET.repeat(16);
    let last_batch = format!("{}{LAST}", GET.repeat(15));
    // A body that is itself a request: a server that did not skip it would answer it.
    let smuggled = "GET /smuggled HTTP/1.1\r\n\r\n";
    let post = format!(
        "POST /plaintext HTTP/1.1\r\nContent-Length: {}\r\n\r\n{smuggled}",
        smuggled.len()
    );
    let plain = |count| (0..count).map(|_| ok(PLAINTEXT)).collect::<Vec<_>>();
    vec![
        Check {
            name: "one request",
            parts: vec![LAST.to_string()],
            expected: plain(1),
        },
        Check {
            name: "GET /json, GET /, GET /nowhere",
            parts: vec![
                "GET /json HTTP/1.1\r\n\r\n".to_string(),
                "GET / HTTP/1.1\r\n\r\n".to_string(),
                "GET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n".to_string(),
            ],
            expected: vec![ok(JSON), ok(PLAINTEXT), status(404)],
        },
        Check {
            name: "pipelined: 4 writes of 16 requests",
            parts: vec![batch.clone(), batch.clone(), batch, last_batch],
            expected: plain(64),
        },
        Check {
            name: "split across reads: a request in 3 parts, then one ending in the next part",
            parts: vec![
                "GET /plain".to_string(),
                "text HTTP/1.1\r\nHost: sel".to_string(),
                format!("f-test\r\n\r\n{}", &LAST[..20]),
                LAST[20..].to_string(),
            ],
            expected: plain(2),
        },
        Check {
            name: "a POST whose body looks like a request, pipelined with a GET",
            parts: vec![format!("{post}{LAST}")],
            expected: plain(2),
        },
        Check {
            name: "a 9 KiB head",
            parts: vec![format!(
                "GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n",
                "a".repeat(9 * 1024)
            )],
            expected: vec![status(431)],
        },
        Check {
            name: "garbage",
            parts: vec!["\u{16}\u{3}\u{1} hello\r\n\r\n".to_string()],
            expected: vec![status(400)],
        },
    ]
}

/// Runs the server and the checks; returns the exit status.
pub fn run() -> i32 {
    let bound = TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l)));
    let (addr, listener) = match bound {
        Ok(bound) => bound,
        Err(err) => {
            eprintln!("self-test: cannot listen on a loopback port: {err}");
            return 1;
        }
    };
    may::go!(move || accept_loop(&listener));
    // The client blocks its thread (std sockets, thread::sleep), so it runs on the blocking
    // pool; blocking a worker would stall the server coroutines it runs.
    let failed = coroutine::spawn_blocking(move || {
        println!("self-test: server on {addr}");
        let mut failed = 0;
        let checks = checks();
        for check in &checks {
            match run_check(addr, check) {
                Ok(seen) => println!("ok   {}: {seen}", check.name),
                Err(why) => {
                    failed += 1;
                    println!("FAIL {}: {why}", check.name);
                }
            }
        }
        println!(
            "self-test: {} passed, {failed} failed",
            checks.len() - failed
        );
        failed
    })
    .join();
    match failed {
        Ok(0) => 0,
        Ok(_) => 1,
        Err(err) => {
            eprintln!("self-test: the checks panicked: {err}");
            1
        }
    }
}

fn run_check(addr: SocketAddr, check: &Check) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .and_then(|_| stream.set_read_timeout(Some(CLIENT_TIMEOUT)))
        .and_then(|_| stream.set_write_timeout(Some(CLIENT_TIMEOUT)))
        .map_err(|e| format!("socket options: {e}"))?;
    for (i, part) in check.parts.iter().enumerate() {
        if i > 0 {
            thread::sleep(PART_PAUSE);
        }
        stream
            .write_all(part.as_bytes())
            .map_err(|e| format!("send: {e}"))?;
    }
    // Everything up to the server's close; a read timeout fails the check.
    let mut received = Vec::new();
    stream
        .read_to_end(&mut received)
        .map_err(|e| format!("reading until the close: {e}"))?;
    let responses = parse_responses(&received)?;
    if responses.len() != check.expected.len() {
        return Err(format!(
            "{} responses, expected {}",
            responses.len(),
            check.expected.len()
        ));
    }
    for (i, (seen, expected)) in responses.iter().zip(&check.expected).enumerate() {
        if seen != expected {
            return Err(format!("response {i}: got {seen:?}, expected {expected:?}"));
        }
    }
    Ok(format!(
        "{} responses in order, then closed",
        responses.len()
    ))
}

/// Splits a stream of responses; each must have a Content-Length and a complete body.
fn parse_responses(mut bytes: &[u8]) -> Result<Vec<Response>, String> {
    let mut responses = Vec::new();
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(bytes) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Err("a truncated response head".to_string()),
            Err(err) => return Err(format!("an unparsable response: {err}")),
        };
        let length = response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
            .ok_or("a response without Content-Length")?;
        let body = bytes
            .get(head_len..head_len + length)
            .ok_or("a truncated response body")?;
        responses.push(Response {
            code: response.code.unwrap_or_default(),
            body: body.to_vec(),
        });
        bytes = &bytes[head_len + length..];
    }
    Ok(responses)
}
