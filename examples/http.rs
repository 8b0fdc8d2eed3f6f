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
//! - Pipelined requests are answered as a batch: every request complete in the input is
//!   answered before the next read, and all those answers leave in one write (`http/conn.rs`).
//!
//! The files: `http/parse.rs` parses, `http/conn.rs` serves one connection, this file accepts
//! connections and reads the options. `--self-test` runs the server on a loopback port and
//! checks all of this (`http/self_test.rs`, `http/exchanges.rs`).

use std::io::ErrorKind;
use std::time::Duration;

use may::coroutine;
use may::net::TcpListener;

#[path = "http/conn.rs"]
mod conn;
#[path = "http/parse.rs"]
mod parse;
// The checks of `--self-test`; kept apart so that these files are the server alone.
#[path = "http/exchanges.rs"]
mod exchanges;
#[path = "http/self_test.rs"]
mod self_test;

use conn::Connection;

/// The first and the longest pause of the accept loop after an accept error.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

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
