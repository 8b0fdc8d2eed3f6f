//! `--self-test`: runs the server on a loopback port in this process and checks, from client
//! threads using std's blocking sockets, what `http.rs` promises: request framing, limits,
//! timeouts and the accept loop's backoff. Prints one line per check and a total; the exit
//! status is 1 if a check failed. Every wait is bounded, so a broken server fails, not hangs.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use may::coroutine;
use may::net::TcpListener;

use crate::exchanges::{exchanges, run_exchange, Client, Outcome, CLIENT_TIMEOUT, GET, HELLO};
use crate::{accept_loop, Timeouts, ACCEPT_BACKOFF_MAX};

/// The server's timeouts unless given on the command line: short enough for the checks to
/// watch them expire in about a second, and different enough that a check fails when one
/// timeout is applied in place of another.
pub const TIMEOUTS: Timeouts = Timeouts {
    idle: Duration::from_millis(400),
    request: Duration::from_secs(1),
    write: Duration::from_secs(1),
};

/// The pause between the bytes a slow client sends.
const TRICKLE_PAUSE: Duration = Duration::from_millis(50);
/// How late a timeout may fire on a loaded machine and still pass. Below the gaps between the
/// self-test's timeouts, so that one timeout applied in place of another fails its check.
const LATENESS: Duration = Duration::from_millis(400);
/// The descriptor check opens /dev/null up to the soft limit; above this it is skipped.
const MAX_DESCRIPTORS_TO_EXHAUST: u64 = 200_000;

type Check = Box<dyn FnOnce() -> Outcome + Send>;
/// A check that needs the server's timeouts.
type TimedCheck = fn(SocketAddr, Timeouts) -> Outcome;

/// Runs the server and the checks; returns the exit status.
pub fn run(timeouts: Timeouts) -> i32 {
    let bound = TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l)));
    let (addr, listener) = match bound {
        Ok(bound) => bound,
        Err(err) => {
            eprintln!("self-test: cannot listen on a loopback port: {err}");
            return 1;
        }
    };
    may::go!(move || accept_loop(&listener, timeouts));
    // The clients block their threads (std sockets, thread::sleep), so the checks run on the
    // blocking pool; blocking a worker would stall the server coroutines it runs.
    match coroutine::spawn_blocking(move || run_checks(addr, timeouts)).join() {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(err) => {
            eprintln!("self-test: the checks panicked: {err}");
            1
        }
    }
}

/// Runs every check (all at once, each on its own connection and thread, so that the timeout
/// checks overlap), then the descriptor check alone. Returns whether all passed.
fn run_checks(addr: SocketAddr, timeouts: Timeouts) -> bool {
    println!(
        "self-test: server on {addr}; idle timeout {:?}, request timeout {:?}",
        timeouts.idle, timeouts.request
    );
    let mut checks: Vec<(String, Check)> = Vec::new();
    for exchange in exchanges() {
        let name = exchange.name.to_string();
        checks.push((name, Box::new(move || run_exchange(addr, &exchange))));
    }
    let timed: [(&str, TimedCheck); 5] = [
        ("a connection that sends nothing is closed", idle_connection),
        (
            "a kept-alive connection is closed when idle",
            idle_after_response,
        ),
        (
            "slowloris: a head sent a byte at a time gets 408",
            slow_head,
        ),
        ("a body that trickles, then stalls, gets 408", stalled_body),
        ("a client that never reads is dropped", never_reads),
    ];
    for (name, check) in timed {
        checks.push((name.to_string(), Box::new(move || check(addr, timeouts))));
    }
    let mut tally = Tally::default();
    thread::scope(|scope| {
        let running: Vec<_> = checks
            .into_iter()
            .map(|(name, check)| (name, scope.spawn(check)))
            .collect();
        for (name, handle) in running {
            let outcome = handle
                .join()
                .unwrap_or_else(|_| Err("panicked".to_string()));
            tally.report(&name, Some(outcome));
        }
    });

    let name = "the accept loop backs off when out of descriptors";
    match soft_descriptor_limit() {
        Some(limit) if limit <= MAX_DESCRIPTORS_TO_EXHAUST => {
            // Let the server close the connections of the checks above first.
            thread::sleep(Duration::from_millis(200));
            println!(
                "self-test: running out of descriptors; accept errors logged now are expected"
            );
            tally.report(name, Some(accept_backs_off(addr)));
        }
        _ => tally.report(name, None),
    }
    println!(
        "self-test: {} passed, {} failed, {} skipped",
        tally.passed, tally.failed, tally.skipped
    );
    tally.failed == 0
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Tally {
    /// Prints a check's line; `None` is a check that could not run here.
    fn report(&mut self, name: &str, outcome: Option<Outcome>) {
        match outcome {
            Some(Ok(seen)) => {
                self.passed += 1;
                println!("ok   {name}: {seen}");
            }
            Some(Err(why)) => {
                self.failed += 1;
                println!("FAIL {name}: {why}");
            }
            None => {
                self.skipped += 1;
                println!("skip {name}: descriptor limit unknown or too high (try ulimit -n 4096)");
            }
        }
    }
}

/// A connection that never sends anything is closed after the idle timeout, silently.
fn idle_connection(addr: SocketAddr, timeouts: Timeouts) -> Outcome {
    let mut client = Client::connect(addr)?;
    let start = Instant::now();
    client.expect_closed()?;
    on_time("closed silently", start.elapsed(), timeouts.idle)
}

/// After answering a request, the server closes the connection once it has been idle.
fn idle_after_response(addr: SocketAddr, timeouts: Timeouts) -> Outcome {
    let mut client = Client::connect(addr)?;
    client.send(GET)?;
    client.response(false)?;
    let start = Instant::now();
    client.expect_closed()?;
    on_time("200, then closed", start.elapsed(), timeouts.idle)
}

/// Every byte arrives well within the read timeout, yet the head never completes.
fn slow_head(addr: SocketAddr, timeouts: Timeouts) -> Outcome {
    let head = "GET / HTTP/1.1\r\nHost: self-test\r\nX-Slow: ";
    trickle(addr, head, CLIENT_TIMEOUT, timeouts)
}

/// The server must not wait a whole request timeout from the last byte it got.
fn stalled_body(addr: SocketAddr, timeouts: Timeouts) -> Outcome {
    let head = "POST / HTTP/1.1\r\nHost: self-test\r\nContent-Length: 100000\r\n\r\n";
    trickle(addr, head, timeouts.request / 2, timeouts)
}

/// Sends `start`, then a byte every `TRICKLE_PAUSE` for `trickle_for` (then nothing) until the
/// server answers; expects 408 and a close once the request timeout has passed.
fn trickle(addr: SocketAddr, start: &str, trickle_for: Duration, timeouts: Timeouts) -> Outcome {
    let mut client = Client::connect(addr)?;
    client.send(start)?;
    let started = Instant::now();
    client.set_read_timeout(TRICKLE_PAUSE)?;
    let mut trickled = 0;
    while client.input.is_empty() && started.elapsed() < CLIENT_TIMEOUT {
        if started.elapsed() < trickle_for {
            // Once the server has answered it may refuse more bytes; the answer is read below.
            if client.stream.write_all(b"a").is_err() {
                break;
            }
            trickled += 1;
        }
        match client.read_some() {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(err) => return Err(format!("read: {err}")),
        }
    }
    client.set_read_timeout(CLIENT_TIMEOUT)?;
    let (status, _) = client.response(false)?;
    if status != "HTTP/1.1 408 Request Timeout" {
        return Err(format!("got {status:?} after {trickled} slow bytes"));
    }
    client.expect_closed()?;
    let seen = format!("408 after {trickled} slow bytes, then closed");
    on_time(&seen, started.elapsed(), timeouts.request)
}

/// Sends pipelined requests without ever reading the responses. Once the socket buffers are
/// full the server's write waits; after the write timeout the server must drop the connection,
/// which the client sees as its own writes failing.
fn never_reads(addr: SocketAddr, timeouts: Timeouts) -> Outcome {
    let domain = socket2::Domain::for_address(addr);
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None)
        .map_err(|e| format!("socket: {e}"))?;
    // A small receive buffer makes the responses pile up after a few kilobytes.
    socket
        .set_recv_buffer_size(4096)
        .and_then(|_| socket.connect(&addr.into()))
        .map_err(|e| format!("connect: {e}"))?;
    let mut stream = TcpStream::from(socket);
    stream
        .set_write_timeout(Some(CLIENT_TIMEOUT))
        .map_err(|e| format!("set_write_timeout: {e}"))?;
    let batch = GET.repeat(100);
    let started = Instant::now();
    let mut requests = 0;
    while started.elapsed() < CLIENT_TIMEOUT {
        match stream.write_all(batch.as_bytes()) {
            Ok(()) => requests += 100,
            Err(err)
                if matches!(
                    err.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ) =>
            {
                let seen = format!("{requests} requests sent, none read; dropped");
                return on_time(&seen, started.elapsed(), timeouts.write);
            }
            Err(err) => return Err(format!("{err} after {requests} requests")),
        }
    }
    Err(format!("still connected after {requests} requests"))
}

/// Passes if `elapsed` is `expected`, give or take scheduling: a little early (the server's
/// clock started before the client's) or up to `LATENESS` late.
fn on_time(seen: &str, elapsed: Duration, expected: Duration) -> Outcome {
    let detail = format!("{seen} after {elapsed:.2?} (timeout {expected:?})");
    if elapsed < expected.mul_f64(0.9) || elapsed > expected + LATENESS {
        return Err(detail);
    }
    Ok(detail)
}

/// Uses up this process's file descriptors so that the server's `accept` fails with EMFILE
/// while a connection waits in the backlog. The accept loop must sleep, not spin (the process
/// uses almost no CPU meanwhile), and serve the connection soon after descriptors are freed.
fn accept_backs_off(addr: SocketAddr) -> Outcome {
    // Opened now: reading it again later needs no new descriptor.
    let mut stat = File::open("/proc/self/stat").map_err(|e| format!("/proc/self/stat: {e}"))?;
    let mut hogs = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(file) => hogs.push(file),
            Err(err) if err.raw_os_error() == Some(libc::EMFILE) => break,
            Err(err) => return Err(format!("opening /dev/null: {err}")),
        }
        if hogs.len() as u64 > MAX_DESCRIPTORS_TO_EXHAUST {
            return Err("no EMFILE from the soft limit on".to_string());
        }
    }
    // One descriptor for the client: the kernel completes its connection, but the server has
    // none left to accept it with.
    hogs.pop();
    let mut client = Client::connect(addr)?;
    client.send(GET)?;
    let window = Duration::from_millis(500);
    let cpu_before = cpu_time(&mut stat)?;
    client.set_read_timeout(window)?;
    match client.read_some() {
        Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        Ok(_) => return Err("the server answered while out of descriptors".to_string()),
        Err(err) => return Err(format!("read: {err}")),
    }
    let cpu = cpu_time(&mut stat)?.saturating_sub(cpu_before);
    drop(hogs);
    let freed = Instant::now();
    client.set_read_timeout(CLIENT_TIMEOUT)?;
    let (status, body) = client.response(false)?;
    let recovered = freed.elapsed();
    let seen = format!(
        "{cpu:?} CPU used in {window:?} without descriptors; \
         {status:?} {recovered:.2?} after they were freed"
    );
    // A spinning accept loop burns a whole core: about `window` of CPU.
    if cpu > window / 4 || body != HELLO || recovered > ACCEPT_BACKOFF_MAX + LATENESS {
        return Err(seen);
    }
    Ok(seen)
}

/// The soft limit on open descriptors (the "Max open files" line of /proc/self/limits).
fn soft_descriptor_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// User plus system CPU time of this process, from /proc/self/stat.
fn cpu_time(stat: &mut File) -> Result<Duration, String> {
    let mut text = String::new();
    stat.seek(SeekFrom::Start(0))
        .and_then(|_| stat.read_to_string(&mut text))
        .map_err(|e| format!("/proc/self/stat: {e}"))?;
    // Fields 14 and 15 (utime, stime) count in USER_HZ ticks, 100 per second on Linux. The
    // command name (field 2) may hold spaces, so fields are counted after its ')'.
    let fields: Vec<&str> = text
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => Ok(Duration::from_millis((user + system) * 10)),
        _ => Err(format!("/proc/self/stat: unexpected format: {text}")),
    }
}
