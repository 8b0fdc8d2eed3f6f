//! UDP echo: a server coroutine echoes datagrams back; `-c` client coroutines each send `-n`
//! numbered datagrams and check every reply, then the program prints the totals and exits.
//!
//! ```text
//! cargo run --release -p may --example udp_echo -- -c 10 -n 1000
//! ```

use std::io;
use std::time::{Duration, Instant};

use may::go;
use may::net::UdpSocket;

#[may::main]
fn main() -> io::Result<()> {
    let mut clients = 10usize;
    let mut count = 1000u32;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "-c" => clients = value.parse().unwrap_or(clients),
            "-n" => count = value.parse().unwrap_or(count),
            _ => {
                eprintln!("usage: udp_echo [-c clients] [-n datagrams per client]");
                std::process::exit(2);
            }
        }
    }
    let server = UdpSocket::bind("127.0.0.1:0")?;
    let addr = server.local_addr()?;
    go!(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = server.recv_from(&mut buf) {
            if server.send_to(&buf[..n], peer).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            go!(move || -> io::Result<(u32, u32)> {
                let socket = UdpSocket::bind("127.0.0.1:0")?;
                socket.connect(addr)?;
                // A lost datagram (possible even on loopback under load) times out the wait.
                socket.set_read_timeout(Some(Duration::from_millis(200)))?;
                let (mut ok, mut lost) = (0, 0);
                let mut buf = [0u8; 4];
                for i in 0..count {
                    socket.send(&i.to_le_bytes())?;
                    match socket.recv(&mut buf) {
                        Ok(4) if u32::from_le_bytes(buf) == i => ok += 1,
                        Ok(_) => lost += 1,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => lost += 1,
                        Err(e) => return Err(e),
                    }
                }
                Ok((ok, lost))
            })
        })
        .collect();
    let (mut ok, mut lost) = (0u32, 0u32);
    for handle in handles {
        match handle.join() {
            Ok(Ok((o, l))) => {
                ok += o;
                lost += l;
            }
            Ok(Err(err)) => eprintln!("udp_echo: client failed: {err}"),
            Err(err) => eprintln!("udp_echo: client panicked: {err}"),
        }
    }
    let elapsed = started.elapsed();
    println!(
        "udp_echo: {ok} datagrams echoed, {lost} lost, in {elapsed:?} ({:.0} round trips/s)",
        f64::from(ok) / elapsed.as_secs_f64()
    );
    Ok(())
}
