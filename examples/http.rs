//! A minimal HTTP/1.1 "hello world" server with keep-alive, parsing requests with `httparse`:
//! one coroutine per connection, pipelined requests answered in order.
//!
//! ```text
//! cargo run --release -p may --example http -- -t 2 -p 8080
//! wrk -c 100 -t 2 -d 10 http://127.0.0.1:8080/
//! ```

use std::io::{self, Read, Write};

use may::coroutine;
use may::go;
use may::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";

/// Serves one connection until the client closes it or sends garbage.
fn serve(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 8192];
    let mut filled = 0;
    let mut out = Vec::with_capacity(4096);
    loop {
        let n = stream.read(&mut buf[filled..])?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        let mut start = 0;
        // Answer every complete request in the buffer (pipelining), then write once.
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf[start..filled]) {
                Ok(httparse::Status::Complete(len)) => {
                    start += len;
                    out.extend_from_slice(RESPONSE);
                }
                Ok(httparse::Status::Partial) => break,
                Err(err) => {
                    stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")?;
                    return Err(io::Error::new(io::ErrorKind::InvalidData, err));
                }
            }
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request too large",
            ));
        }
        if !out.is_empty() {
            stream.write_all(&out)?;
            out.clear();
        }
    }
}

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
                eprintln!("usage: http [-t workers] [-p port]");
                std::process::exit(2);
            }
        }
    }
    (workers, port)
}

#[may::main(workers = options().0.unwrap_or_else(|| may::config().workers()))]
fn main() {
    let (_, port) = options();
    let server = go!(move || -> io::Result<()> {
        let listener = TcpListener::bind(("0.0.0.0", port))?;
        println!("http: listening on http://{}", listener.local_addr()?);
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    go!(move || {
                        let _ = stream.set_nodelay(true);
                        let _ = serve(stream);
                    });
                }
                Err(err) => {
                    eprintln!("http: accept failed: {err}");
                    coroutine::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
    });
    if let Ok(Err(err)) = server.join() {
        eprintln!("http: {err}");
        std::process::exit(1);
    }
}
