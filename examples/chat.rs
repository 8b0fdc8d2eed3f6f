//! A line-based chat room: every line a client sends is broadcast to every other client.
//! Each connection has a reader coroutine (lines in) and a writer coroutine (lines out, fed by
//! a channel); a hub coroutine owns the member list and does the broadcasting.
//!
//! ```text
//! cargo run --release -p may --example chat -- -p 7000      # a server; try `nc 127.0.0.1 7000`
//! cargo run --release -p may --example chat -- -d 2         # a self-test that exits: 5 bots
//! ```

use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::time::Duration;

use may::coroutine;
use may::go;
use may::net::{TcpListener, TcpStream};
use may::sync::mpsc::{channel, Receiver, Sender};

enum Event {
    Join(SocketAddr, Sender<String>),
    Line(SocketAddr, String),
    Leave(SocketAddr),
}

/// The hub: the only owner of the member list.
fn hub(events: Receiver<Event>) {
    let mut members: Vec<(SocketAddr, Sender<String>)> = Vec::new();
    while let Ok(event) = events.recv() {
        match event {
            Event::Join(addr, tx) => members.push((addr, tx)),
            Event::Leave(addr) => members.retain(|(a, _)| *a != addr),
            Event::Line(from, line) => {
                let msg = format!("{from}: {line}\n");
                members.retain(|(a, tx)| *a == from || tx.send(msg.clone()).is_ok());
            }
        }
    }
}

/// Reads lines from one client and forwards them to the hub; a writer coroutine sends the
/// broadcasts back.
fn client(stream: TcpStream, peer: SocketAddr, events: Sender<Event>) -> io::Result<()> {
    let (tx, rx) = channel::<String>();
    let _ = events.send(Event::Join(peer, tx));
    let mut writer = stream.try_clone()?;
    go!(move || {
        for line in rx.iter() {
            if writer.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
    });
    for line in BufReader::new(stream).lines() {
        let _ = events.send(Event::Line(peer, line?));
    }
    let _ = events.send(Event::Leave(peer));
    Ok(())
}

/// The self-test: `bots` clients each say one line and count the lines they hear.
fn bots(addr: SocketAddr, bots: usize, seconds: u64) -> usize {
    let handles: Vec<_> = (0..bots)
        .map(|i| {
            go!(move || -> io::Result<usize> {
                let stream = TcpStream::connect(addr)?;
                stream.set_read_timeout(Some(Duration::from_secs(seconds)))?;
                // Let every bot join before anyone speaks.
                coroutine::sleep(Duration::from_millis(200));
                (&stream).write_all(format!("hello from bot {i}\n").as_bytes())?;
                let mut heard = 0;
                let mut lines = BufReader::new(&stream).lines();
                while heard < bots - 1 {
                    match lines.next() {
                        Some(Ok(_)) => heard += 1,
                        _ => break,
                    }
                }
                Ok(heard)
            })
        })
        .collect();
    handles
        .into_iter()
        .filter_map(|h| h.join().ok().and_then(Result::ok))
        .sum()
}

#[may::main]
fn main() -> io::Result<()> {
    let (mut port, mut seconds) = (7000u16, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "-p" => port = value.parse().unwrap_or(port),
            "-d" => seconds = value.parse().ok(),
            _ => {
                eprintln!("usage: chat [-p port] [-d seconds: run the bot self-test]");
                std::process::exit(2);
            }
        }
    }
    let bind_port = if seconds.is_some() { 0 } else { port };
    let listener = TcpListener::bind(("127.0.0.1", bind_port))?;
    let addr = listener.local_addr()?;
    let (events_tx, events_rx) = channel();
    go!(move || hub(events_rx));
    go!(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(peer) = stream.peer_addr() else {
                continue;
            };
            let events = events_tx.clone();
            go!(move || client(stream, peer, events));
        }
    });
    match seconds {
        Some(seconds) => {
            const BOTS: usize = 5;
            let heard = bots(addr, BOTS, seconds);
            println!(
                "chat: {BOTS} bots heard {heard} of {} lines",
                BOTS * (BOTS - 1)
            );
        }
        None => {
            println!("chat: listening on {addr}");
            std::thread::park();
        }
    }
    Ok(())
}
