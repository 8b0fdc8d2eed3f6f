//! The worked port of docs/migrating.md ("A worked port"), kept here so that it compiles and
//! runs: a line server ported from may 0.3. Eight clients send ten lines each over concurrent
//! connections (at most four served at once); every answer is checked, and the reporter's
//! total must be exactly 80 once the server is cancelled and every connection has closed.

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::Duration;

use may::net::{TcpListener, TcpStream};
use may::sync::{mpmc, mpsc, Semaphore};
use may::{go, select};

fn serve(stream: TcpStream, lines: mpsc::Sender<usize>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        lines.send(1).unwrap();
        out.write_all(format!("{}\n", line.len()).as_bytes())?;
    }
    Ok(())
}

fn report(lines: mpsc::Receiver<usize>, period: Duration) -> usize {
    let ticker = mpmc::tick(period);
    let mut total = 0;
    loop {
        let open = select! {
            n = lines.recv() => match n {
                Ok(n) => {
                    total += n;
                    true
                }
                Err(_) => false,
            },
            recv(ticker) -> _ => {
                println!("{total} lines");
                true
            }
        };
        if !open {
            return total;
        }
    }
}

fn run(listener: TcpListener, limit: usize, lines: mpsc::Sender<usize>) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limit));
    for stream in listener.incoming() {
        let stream = stream?;
        permits.acquire().forget();
        let (permits, lines) = (permits.clone(), lines.clone());
        go!(stack = "16KiB", move || {
            let _ = serve(stream, lines);
            permits.add_permits(1);
        });
    }
    Ok(())
}

#[allow(dead_code)] // the program's entry; the test drives `run` instead
fn main() {
    may::config().set_workers(2).set_stack_size(16 * 1024);
    let listener = TcpListener::bind("127.0.0.1:7000").unwrap();
    let (tx, rx) = mpsc::channel();
    go!(move || report(rx, Duration::from_secs(1)));
    run(listener, 64, tx).unwrap();
}

#[may::test]
fn answers_lengths() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    let reporter = go!(move || report(rx, Duration::from_secs(3600)));
    let server = go!(move || run(listener, 4, tx));
    let clients: Vec<_> = (0..8).map(|c| go!(move || client(addr, c))).collect();
    let answered: usize = clients.into_iter().map(|h| h.join().unwrap()).sum();
    server.coroutine().cancel();
    assert!(server.join().unwrap_err().is_cancelled());
    assert_eq!((answered, reporter.join().unwrap()), (80, 80));
}

/// Sends ten lines of different lengths and checks each answer.
fn client(addr: std::net::SocketAddr, c: usize) -> usize {
    let conn = TcpStream::connect(addr).unwrap();
    let mut out = conn.try_clone().unwrap();
    let mut answers = BufReader::new(conn).lines();
    for i in 0..10 {
        let line = "x".repeat(c * 10 + i);
        out.write_all(format!("{line}\n").as_bytes()).unwrap();
        assert_eq!(answers.next().unwrap().unwrap(), line.len().to_string());
    }
    10
}

/// The code above is the ported program printed in docs/migrating.md, line for line (less this
/// file's header, the `allow` on `main` and this test).
#[test]
fn the_guide_prints_this_program() {
    let guide = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/migrating.md"));
    let this = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/migrating_port.rs"
    ));
    let port = guide
        .split("## A worked port")
        .nth(1)
        .and_then(|s| s.split("\n```rust\n").nth(1))
        .and_then(|s| s.split("\n```\n").next())
        .expect("docs/migrating.md has the ported program in a ```rust block");
    let program: Vec<&str> = this
        .lines()
        .skip_while(|l| l.starts_with("//!") || l.is_empty())
        .take_while(|l| !l.starts_with("/// The code above is"))
        .filter(|l| !l.starts_with("#[allow(dead_code)]"))
        .collect();
    assert_eq!(program.join("\n").trim_end(), port.trim_end());
}
