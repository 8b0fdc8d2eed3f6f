//! A load generator for echo servers: `-c` connections each send a `-l`-byte message and wait
//! for it to come back, for `-d` seconds; prints requests per second and the p50/p99 latency
//! of a round trip.
//!
//! ```text
//! cargo run --release -p may --example echo_client -- -t 1 -c 100 -l 100 -d 5 -a 127.0.0.1:8080
//! ```
//! Output (one line, parsed by `bench/src/bin/echo.rs`):
//! `requests/s: 123456 p50_us: 700 p99_us: 1500 errors: 0`

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use may::go;
use may::net::TcpStream;

struct Opts {
    workers: Option<usize>,
    connections: usize,
    len: usize,
    seconds: u64,
    addr: String,
}

fn parse() -> Opts {
    let mut opts = Opts {
        workers: None,
        connections: 100,
        len: 100,
        seconds: 5,
        addr: "127.0.0.1:8080".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        let ok = match flag.as_str() {
            "-t" => value.parse().map(|v| opts.workers = Some(v)).is_ok(),
            "-c" => value.parse().map(|v| opts.connections = v).is_ok(),
            "-l" => value.parse().map(|v| opts.len = v).is_ok(),
            "-d" => value.parse().map(|v| opts.seconds = v).is_ok(),
            "-a" => {
                opts.addr = value;
                true
            }
            _ => false,
        };
        if !ok {
            eprintln!("usage: echo_client [-t workers] [-c conns] [-l len] [-d secs] [-a addr]");
            std::process::exit(2);
        }
    }
    opts
}

/// One connection's loop: round trips until `end`; returns the latencies in microseconds.
fn run_connection(addr: String, len: usize, end: Instant) -> std::io::Result<Vec<u32>> {
    let mut stream = TcpStream::connect(addr.as_str())?;
    stream.set_nodelay(true)?;
    let msg = vec![b'x'; len];
    let mut back = vec![0u8; len];
    let mut latencies = Vec::with_capacity(1 << 16);
    loop {
        let start = Instant::now();
        if start >= end {
            return Ok(latencies);
        }
        stream.write_all(&msg)?;
        stream.read_exact(&mut back)?;
        let micros = start.elapsed().as_micros();
        latencies.push(u32::try_from(micros).unwrap_or(u32::MAX));
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[may::main(workers = parse().workers.unwrap_or_else(|| may::config().workers()))]
fn main() {
    let opts = parse();
    let started = Instant::now();
    let end = started + Duration::from_secs(opts.seconds);
    let handles: Vec<_> = (0..opts.connections)
        .map(|_| {
            let addr = opts.addr.clone();
            let len = opts.len;
            go!(move || run_connection(addr, len, end))
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0usize;
    for handle in handles {
        match handle.join() {
            Ok(Ok(latencies)) => all.extend(latencies),
            Ok(Err(err)) => {
                errors += 1;
                eprintln!("echo_client: connection failed: {err}");
            }
            Err(err) => {
                errors += 1;
                eprintln!("echo_client: connection panicked: {err}");
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    println!(
        "requests/s: {:.0} p50_us: {} p99_us: {} errors: {errors}",
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.99)
    );
}
