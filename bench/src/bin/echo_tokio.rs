//! The tokio twin of `examples/echo.rs`: the same work (one task per connection, a 4 KiB
//! buffer, read then write_all) on a tokio multi-thread runtime with `-t` workers, port `-p`.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let mut workers = 1usize;
    let mut port = 8081u16;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "-t" => workers = value.parse().unwrap_or(workers),
            "-p" => port = value.parse().unwrap_or(port),
            _ => {
                eprintln!("usage: echo_tokio [-t workers] [-p port]");
                std::process::exit(2);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("0.0.0.0", port)).await?;
        println!("echo_tokio: listening on {}", listener.local_addr()?);
        loop {
            let (mut stream, _) = match listener.accept().await {
                Ok(pair) => pair,
                Err(err) => {
                    eprintln!("echo_tokio: accept failed: {err}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
}
