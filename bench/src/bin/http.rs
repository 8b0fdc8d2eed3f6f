//! HTTP comparison: `examples/http` (may + httparse) against `http_hyper` (hyper 1.x on tokio),
//! both answering `wrk -c 100 -t 1` with 1 and 2 server workers, in one run. Prints requests/s,
//! wrk's p99 latency and the may/hyper ratios. Needs `wrk` on the PATH (`apt-get install wrk`).
//!
//! ```text
//! cargo build --release -p may --example http
//! cargo build --release -p may-bench --bin http_hyper --bin http
//! target/release/http            # HTTP_BENCH_SECS (default 5)
//! ```

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Kills the server it owns when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(bin: &Path, workers: usize, port: u16) -> Result<Server, String> {
    let mut child = Command::new(bin)
        .args(["-t", &workers.to_string(), "-p", &port.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if !line.contains("listening") {
        return Err(format!("{} did not start: {line:?}", bin.display()));
    }
    Ok(Server(child))
}

/// A wrk latency like "1.23ms" or "850.00us" in microseconds.
fn micros(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().ok()?;
    match unit {
        "us" => Some(value),
        "ms" => Some(value * 1e3),
        "s" => Some(value * 1e6),
        _ => None,
    }
}

/// Runs wrk against `port`; returns (requests/s, p99 in us).
fn measure(port: u16, secs: u64) -> Result<(f64, f64), String> {
    let out = Command::new("wrk")
        .args([
            "-c",
            "100",
            "-t",
            "1",
            "--latency",
            "-d",
            &format!("{secs}s"),
        ])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .map_err(|e| format!("cannot run wrk (apt-get install wrk): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rps = None;
    let mut p99 = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => rps = value.parse().ok(),
            ["99%", value] => p99 = micros(value),
            _ => {}
        }
    }
    match (rps, p99) {
        (Some(rps), Some(p99)) => Ok((rps, p99)),
        _ => Err(format!("unexpected wrk output: {text:?}")),
    }
}

fn main() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no exe dir")?;
    let may_http = dir.join("examples/http");
    let hyper_http = dir.join("http_hyper");
    let secs = std::env::var("HTTP_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    println!("| server workers | may req/s | hyper req/s | req/s ratio | may p99 | hyper p99 | p99 ratio |");
    println!("|---|---|---|---|---|---|---|");
    for workers in [1usize, 2] {
        let port = 19200 + workers as u16;
        let may = {
            let _server = start(&may_http, workers, port)?;
            measure(port, secs)?
        };
        let hyper = {
            let _server = start(&hyper_http, workers, port + 100)?;
            measure(port + 100, secs)?
        };
        println!(
            "| {workers} | {:.0} | {:.0} | {:.2}x | {:.0} us | {:.0} us | {:.2}x |",
            may.0,
            hyper.0,
            may.0 / hyper.0,
            may.1,
            hyper.1,
            may.1 / hyper.1
        );
    }
    Ok(())
}
