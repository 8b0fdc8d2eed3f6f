//! A TCP echo server: one coroutine per connection, written as plain blocking code.
//!
//! ```text
//! cargo run --release -p may --example echo -- -t 2 -p 8080
//! ```
//! `-t` sets the worker threads (default: the configured default), `-p` the port (8080).
//! Measure it with `examples/echo_client.rs`.

use std::io::{Read, Write};

use may::coroutine;
use may::go;
use may::net::TcpListener;

/// `-t workers` and `-p port` from the command line.
fn options() -> (Option<usize>, u16) {
    let mut workers = None;
    let mut port = 8080u16;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "-t" => workers = value.parse().ok(),
            "-p" => port = value.parse().unwrap_or(port),
            _ => {
                eprintln!("usage: echo [-t workers] [-p port]");
                std::process::exit(2);
            }
        }
    }
    (workers, port)
}

#[may::main(workers = options().0.unwrap_or_else(|| may::config().workers()))]
fn main() {
    let (_, port) = options();
    let server = go!(move || -> std::io::Result<()> {
        let listener = TcpListener::bind(("0.0.0.0", port))?;
        println!("echo: listening on {}", listener.local_addr()?);
        for stream in listener.incoming() {
            let mut stream = match stream {
                Ok(stream) => stream,
                Err(err) => {
                    // EMFILE and friends: report, back off a little, keep serving.
                    eprintln!("echo: accept failed: {err}");
                    coroutine::sleep(std::time::Duration::from_millis(10));
                    continue;
                }
            };
            go!(move || {
                let mut buf = vec![0u8; 4096];
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
        Ok(())
    });
    match server.join() {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            eprintln!("echo: {err}");
            std::process::exit(1);
        }
        Err(err) => {
            eprintln!("echo: {err}");
            std::process::exit(1);
        }
    }
}
