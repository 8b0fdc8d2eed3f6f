//! Echo server comparison: `examples/echo` (may) against `echo_tokio` (the same work on tokio),
//! both driven by `examples/echo_client` (100 connections, 100-byte messages) with 1 and 2
//! server workers, in one run. Prints requests/s, p99 and server CPU per request for each, and
//! the may/tokio ratios.
//!
//! Build everything first, then run:
//! ```text
//! cargo build --release -p may --example echo --example echo_client
//! cargo build --release -p may-bench --bin echo_tokio --bin net
//! target/release/net            # NET_BENCH_SECS (default 5), NET_BENCH_CLIENT_WORKERS (1)
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Sample {
    rps: f64,
    p99: f64,
    /// Server CPU time (user + system) per request, in microseconds.
    cpu_us: f64,
}

/// Kills the server it owns when dropped, so a failed run leaves no process behind.
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
    // Wait for its "listening" line: the port is bound once it is printed.
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

fn field(line: &str, name: &str) -> Option<f64> {
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == name {
            return words.next()?.parse().ok();
        }
    }
    None
}

/// User + system CPU seconds of process `pid` so far (from /proc, in clock ticks of 10 ms).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn measure(
    server: &Server,
    client: &Path,
    port: u16,
    secs: u64,
    client_workers: usize,
) -> Result<Sample, String> {
    let pid = server.0.id();
    let cpu_before = cpu_seconds(pid);
    let out = Command::new(client)
        .args(["-t", &client_workers.to_string(), "-c", "100", "-l", "100"])
        .args(["-d", &secs.to_string(), "-a", &format!("127.0.0.1:{port}")])
        .output()
        .map_err(|e| format!("cannot run the client: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match (field(&text, "requests/s:"), field(&text, "p99_us:")) {
        (Some(rps), Some(p99)) => {
            let cpu = cpu_seconds(pid) - cpu_before;
            let requests = rps * secs as f64;
            Ok(Sample {
                rps,
                p99,
                cpu_us: cpu * 1e6 / requests.max(1.0),
            })
        }
        _ => Err(format!("unexpected client output: {text:?}")),
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), String> {
    let dir: PathBuf = std::env::current_exe()
        .map_err(|e| e.to_string())?
        .parent()
        .ok_or("no exe dir")?
        .to_path_buf();
    let may_echo = dir.join("examples/echo");
    let client = dir.join("examples/echo_client");
    let tokio_echo = dir.join("echo_tokio");
    let secs = env_or("NET_BENCH_SECS", 5);
    let client_workers = env_or("NET_BENCH_CLIENT_WORKERS", 1) as usize;
    println!(
        "| server workers | may req/s | tokio req/s | req/s ratio | may p99 | tokio p99 \
         | p99 ratio | may CPU/req | tokio CPU/req | CPU ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for workers in [1usize, 2] {
        let port = 19000 + workers as u16;
        let may = {
            let server = start(&may_echo, workers, port)?;
            measure(&server, &client, port, secs, client_workers)?
        };
        let tokio = {
            let server = start(&tokio_echo, workers, port + 100)?;
            measure(&server, &client, port + 100, secs, client_workers)?
        };
        println!(
            "| {workers} | {:.0} | {:.0} | {:.2}x | {:.0} us | {:.0} us | {:.2}x | {:.2} us | {:.2} us | {:.2}x |",
            may.rps,
            tokio.rps,
            may.rps / tokio.rps,
            may.p99,
            tokio.p99,
            may.p99 / tokio.p99,
            may.cpu_us,
            tokio.cpu_us,
            may.cpu_us / tokio.cpu_us
        );
    }
    Ok(())
}
