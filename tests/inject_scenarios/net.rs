//! Socket scenarios, loopback only: the body is a TCP client (`connect` by name, so resolved on
//! the blocking pool, then lock-step `write`/`read` with small socket buffers so that both
//! block), a TCP server (`accept`), or a UDP echo (`recv_from`/`send_to`). Every byte a `write`
//! reported written reaches the peer, in order; every byte read is the one the peer wrote there;
//! every connection the body acknowledged is seen by the peer, and every datagram it echoed
//! comes back.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use crate::cancel_support::injection::{Run, Scenario, Shelf, Tally};
use may::coroutine::{self, JoinHandle};
use may::net::{TcpListener, TcpStream, UdpSocket};

const LOCALHOST: (Ipv4Addr, u16) = (Ipv4Addr::LOCALHOST, 0);
/// Bytes each side sends per round.
const CHUNK: usize = 256 * 1024;
/// Socket buffer sizes: smaller than a chunk, so that the writer waits, but well above the
/// loopback MSS (64 KiB): smaller windows stall TCP for hundreds of milliseconds (silly-window
/// avoidance and the persist timer).
const BUFFER: usize = 128 * 1024;

/// The byte at `offset` of a stream.
fn pattern(offset: u64) -> u8 {
    (offset % 251) as u8
}

fn small_buffers(stream: &TcpStream) {
    let socket = socket2::SockRef::from(stream);
    // Best effort: the kernel rounds them; only how often the body waits depends on it.
    let _ = socket.set_send_buffer_size(BUFFER);
    let _ = socket.set_recv_buffer_size(BUFFER);
}

/// The body connects to a server peer and runs `rounds` rounds of: write a chunk, read the
/// server's chunk back.
pub struct TcpClient {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    server: Shelf<JoinHandle<Served>>,
    written: AtomicU64,
    read: AtomicU64,
    bad_reads: AtomicU64,
    rounds: u64,
    calls: Calls,
}

/// How the TCP client body moves its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calls {
    /// `read` and `write`.
    Blocking,
    /// The readiness API: `readable()` then `try_read`, `writable()` then `try_write`.
    Readiness,
}

/// What the server peer saw.
#[derive(Debug, Default)]
struct Served {
    connections: u64,
    bytes_in: u64,
    bad_bytes_in: u64,
}

pub fn tcp_client(rounds: u64) -> TcpClient {
    tcp_client_with(rounds, Calls::Blocking)
}

/// The TCP client scenario with its reads and writes made through the readiness API.
pub fn tcp_client_readiness(rounds: u64) -> TcpClient {
    tcp_client_with(rounds, Calls::Readiness)
}

fn tcp_client_with(rounds: u64, calls: Calls) -> TcpClient {
    let listener = TcpListener::bind(LOCALHOST).expect("bind on loopback");
    let addr = listener.local_addr().expect("a bound address");
    let stop = Arc::new(AtomicBool::new(false));
    let server = {
        let stop = stop.clone();
        coroutine::spawn(move || {
            let mut served = Served::default();
            // Every connection is served, the body's even when it comes after the body ended
            // (the kernel completes a connection before it is accepted); the check's, which
            // ends the loop, sends nothing.
            while let Ok((conn, _)) = listener.accept() {
                served.connections += 1;
                small_buffers(&conn);
                serve(conn, &mut served);
                if stop.load(SeqCst) {
                    break;
                }
            }
            served
        })
    };
    TcpClient {
        addr,
        stop,
        server: Shelf::new(server),
        written: AtomicU64::new(0),
        read: AtomicU64::new(0),
        bad_reads: AtomicU64::new(0),
        rounds,
        calls,
    }
}

/// Reads a chunk, then writes one back, until the client goes away.
fn serve(mut conn: TcpStream, served: &mut Served) {
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    loop {
        let mut got = 0;
        while got < CHUNK {
            match conn.read(&mut buf[got..]) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    for &b in &buf[got..got + n] {
                        if b != pattern(served.bytes_in) {
                            served.bad_bytes_in += 1;
                        }
                        served.bytes_in += 1;
                    }
                    got += n;
                }
            }
        }
        let reply: Vec<u8> = (offset..offset + CHUNK as u64).map(pattern).collect();
        offset += CHUNK as u64;
        if conn.write_all(&reply).is_err() {
            return;
        }
    }
}

impl TcpClient {
    fn write_chunk(&self, stream: &mut TcpStream) -> io::Result<()> {
        let start = self.written.load(SeqCst);
        let chunk: Vec<u8> = (start..start + CHUNK as u64).map(pattern).collect();
        let mut sent = 0;
        while sent < CHUNK {
            let n = match self.calls {
                Calls::Blocking => stream.write(&chunk[sent..])?,
                Calls::Readiness => match stream.try_write(&chunk[sent..]) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        stream.writable()?;
                        continue;
                    }
                    result => result?,
                },
            };
            // Counted where `write` returned: no blocking call in between.
            self.written.fetch_add(n as u64, SeqCst);
            sent += n;
        }
        Ok(())
    }

    fn read_chunk(&self, stream: &mut TcpStream) -> io::Result<()> {
        let mut buf = vec![0u8; CHUNK];
        let mut got = 0;
        while got < CHUNK {
            let n = match self.calls {
                Calls::Blocking => stream.read(&mut buf[got..])?,
                Calls::Readiness => match stream.try_read(&mut buf[got..]) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        stream.readable()?;
                        continue;
                    }
                    result => result?,
                },
            };
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            for &b in &buf[got..got + n] {
                if b != pattern(self.read.fetch_add(1, SeqCst)) {
                    self.bad_reads.fetch_add(1, SeqCst);
                }
            }
            got += n;
        }
        Ok(())
    }
}

impl Scenario for TcpClient {
    fn body(&self) {
        // A host name, resolved on the blocking pool (a literal address such as
        // `self.addr.to_string()` is converted in place: no blocking point).
        let name = format!("localhost:{}", self.addr.port());
        let mut stream = TcpStream::connect(name).expect("connect");
        small_buffers(&stream);
        for _ in 0..self.rounds {
            self.write_chunk(&mut stream).expect("write");
            self.read_chunk(&mut stream).expect("read");
        }
    }

    fn check(&self, run: &Run) {
        self.stop.store(true, SeqCst);
        // Makes sure the server has a last connection to serve, after which it sees `stop`.
        drop(std::net::TcpStream::connect(self.addr));
        let served = self.server.take().join().expect("the server finished");
        assert!(served.connections <= 2, "{run:?}: {served:?}");
        assert_eq!(served.bad_bytes_in, 0, "{run:?}: bytes in order");
        assert_eq!(
            served.bytes_in,
            self.written.load(SeqCst),
            "{run:?}: every byte written arrived"
        );
        assert_eq!(
            self.bad_reads.load(SeqCst),
            0,
            "{run:?}: bytes read in order"
        );
    }
}

/// The body accepts `rounds` connections from a client peer and writes one byte on each; the
/// peer counts the bytes it got. A cancelled body drops its listener, refusing the rest.
pub struct TcpServer {
    listener: Shelf<TcpListener>,
    client: Shelf<JoinHandle<u64>>,
    acknowledged: AtomicU64,
    rounds: u64,
}

pub fn tcp_server(rounds: u64) -> TcpServer {
    let listener = TcpListener::bind(LOCALHOST).expect("bind on loopback");
    let addr = listener.local_addr().expect("a bound address");
    let client = coroutine::spawn(move || {
        let mut acknowledged = 0;
        for _ in 0..rounds {
            let Ok(mut conn) = TcpStream::connect(addr) else {
                continue;
            };
            // Linux can drop a connection still in the listener's handshake queue when the
            // listener closes without telling the client (no RST: seen as a hang here, the
            // client's socket established with one segment in), so the read gives up in time.
            // Only a byte the body wrote counts, which a timeout cannot fake.
            conn.set_read_timeout(Some(Duration::from_secs(2)))
                .expect("a read timeout");
            let mut byte = [0u8; 1];
            if matches!(conn.read(&mut byte), Ok(1)) && byte[0] == b'A' {
                acknowledged += 1;
            }
        }
        acknowledged
    });
    TcpServer {
        listener: Shelf::new(listener),
        client: Shelf::new(client),
        acknowledged: AtomicU64::new(0),
        rounds,
    }
}

impl Scenario for TcpServer {
    fn body(&self) {
        let listener = self.listener.take();
        for _ in 0..self.rounds {
            let (mut conn, _) = listener.accept().expect("accept");
            conn.write_all(b"A").expect("one byte fits");
            self.acknowledged.fetch_add(1, SeqCst);
        }
    }

    fn check(&self, run: &Run) {
        let seen = self.client.take().join().expect("the client finished");
        assert_eq!(
            seen,
            self.acknowledged.load(SeqCst),
            "{run:?}: acknowledged"
        );
    }
}

/// The body echoes `rounds` datagrams back to a peer that sends one at a time and waits for
/// each echo (until the body is gone).
pub struct UdpEcho {
    socket: Shelf<UdpSocket>,
    echoed: Tally,
    peer: Shelf<JoinHandle<(u64, u64)>>,
    body_gone: Arc<AtomicBool>,
    rounds: u64,
}

pub fn udp_echo(rounds: u64) -> UdpEcho {
    let socket = UdpSocket::bind(LOCALHOST).expect("bind on loopback");
    let addr = socket.local_addr().expect("a bound address");
    let body_gone = Arc::new(AtomicBool::new(false));
    let peer = {
        let body_gone = body_gone.clone();
        coroutine::spawn(move || {
            let peer = UdpSocket::bind(LOCALHOST).expect("bind on loopback");
            peer.set_read_timeout(Some(Duration::from_millis(2)))
                .expect("timeout");
            let (mut n, mut sum) = (0, 0);
            'rounds: for value in 1..=rounds {
                peer.send_to(&[value as u8], addr).expect("loopback send");
                let mut buf = [0u8; 1];
                loop {
                    // An echo sent before the body ended is already in our buffer.
                    let gone = body_gone.load(SeqCst);
                    if let Ok((1, _)) = peer.recv_from(&mut buf) {
                        n += 1;
                        sum += u64::from(buf[0]);
                        break;
                    }
                    if gone {
                        break 'rounds;
                    }
                }
            }
            (n, sum)
        })
    };
    UdpEcho {
        socket: Shelf::new(socket),
        echoed: Tally::default(),
        peer: Shelf::new(peer),
        body_gone,
        rounds,
    }
}

/// Tells the peer the body is gone, however the body ends.
struct Gone<'a>(&'a AtomicBool);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

impl Scenario for UdpEcho {
    fn body(&self) {
        let _gone = Gone(&self.body_gone);
        let socket = self.socket.take();
        let mut buf = [0u8; 1];
        for _ in 0..self.rounds {
            let (n, from) = socket.recv_from(&mut buf).expect("recv_from");
            assert_eq!(n, 1);
            socket.send_to(&buf, from).expect("loopback send");
            self.echoed.add(u64::from(buf[0]));
        }
    }

    fn check(&self, run: &Run) {
        let seen = self.peer.take().join().expect("the peer finished");
        assert_eq!(seen, self.echoed.get(), "{run:?}: echoes (count, sum)");
    }
}
