//! The readiness API (`readable`/`writable`, `try_read`/`try_write`, `try_accept`,
//! `try_recv`/`try_send`, `peek`): a custom protocol's "try until `WouldBlock`, then wait" loop
//! moves every byte exactly once, from coroutines and from plain threads; a wait keeps the
//! socket's timeout and unwinds on cancellation, leaving the socket usable.

use std::io::{self, ErrorKind, Read, Write};
use std::net::Ipv4Addr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use may::coroutine;
use may::net::{TcpListener, TcpStream, UdpSocket};

const LOCALHOST: (Ipv4Addr, u16) = (Ipv4Addr::LOCALHOST, 0);
/// More than a loopback socket buffers, so that writers meet `WouldBlock`.
const TOTAL: usize = 4 << 20;

fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind(LOCALHOST).unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    // Buffers far smaller than `TOTAL`, so that the writer has to wait whoever runs first (the
    // kernel's autotuning could otherwise buffer megabytes on loopback).
    for stream in [&client, &server] {
        let socket = socket2::SockRef::from(stream);
        socket.set_send_buffer_size(64 * 1024).unwrap();
        socket.set_recv_buffer_size(64 * 1024).unwrap();
    }
    (client, server)
}

/// The byte at offset `i` of the stream: a pattern that a lost or doubled chunk breaks.
fn byte_at(i: usize) -> u8 {
    (i % 251) as u8
}

/// Writes `TOTAL` pattern bytes with `try_write`, waiting with `writable` on `WouldBlock`.
fn write_all_ready(stream: &TcpStream) -> io::Result<usize> {
    let chunk: Vec<u8> = (0..64 * 1024).map(byte_at).collect();
    let (mut sent, mut would_block) = (0, 0);
    while sent < TOTAL {
        let start = sent % 251;
        let end = (TOTAL - sent).min(chunk.len() - 251) + start;
        match stream.try_write(&chunk[start..end]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                would_block += 1;
                stream.writable()?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(would_block)
}

/// Reads to the end with `try_read`, waiting with `readable`; returns (bytes, pattern errors).
fn read_all_ready(stream: &TcpStream) -> io::Result<(usize, usize)> {
    let mut buf = vec![0u8; 16 * 1024];
    let (mut got, mut wrong) = (0, 0);
    loop {
        match stream.try_read(&mut buf) {
            Ok(0) => return Ok((got, wrong)),
            Ok(n) => {
                wrong += (0..n).filter(|&i| buf[i] != byte_at(got + i)).count();
                got += n;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => stream.readable()?,
            Err(e) => return Err(e),
        }
    }
}

fn stream_every_byte_once(spawn_side: impl Fn(Box<dyn FnOnce() + Send>)) {
    let (client, server) = tcp_pair();
    let (tx, rx) = mpsc::channel();
    spawn_side(Box::new(move || {
        let would_block = write_all_ready(&client).unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        tx.send(would_block).unwrap();
    }));
    let (got, wrong) = read_all_ready(&server).unwrap();
    assert_eq!((got, wrong), (TOTAL, 0));
    assert!(rx.recv().unwrap() > 0, "the writer never had to wait");
}

#[test]
fn tcp_try_read_and_try_write_move_every_byte_once_in_coroutines() {
    coroutine::spawn(|| {
        stream_every_byte_once(|f| drop(coroutine::spawn(f)));
    })
    .join()
    .unwrap();
}

#[test]
fn tcp_try_read_and_try_write_move_every_byte_once_on_threads() {
    stream_every_byte_once(|f| drop(std::thread::spawn(f)));
}

/// A wait keeps the read timeout: after `WouldBlock` cleared the mark, `readable` fails with
/// `WouldBlock` when the timeout passes, and the socket then reads what comes later.
#[test]
fn readable_keeps_the_read_timeout() {
    let check = || {
        let (mut client, server) = tcp_pair();
        server
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(server.readable().unwrap_err().kind(), ErrorKind::WouldBlock);
        client.write_all(b"late").unwrap();
        server.readable().unwrap();
        let mut got = 0;
        while got < 4 {
            match server.try_read(&mut buf[got..]) {
                Ok(n) => got += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => server.readable().unwrap(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&buf[..4], b"late");
    };
    coroutine::spawn(check).join().unwrap();
    check();
}

/// A coroutine cancelled inside `readable()` unwinds (its destructors run once) and the
/// socket it waited on still reads, in full, the bytes sent afterwards.
#[test]
fn a_cancelled_readable_unwinds_and_the_socket_stays_usable() {
    struct Dropped(mpsc::Sender<&'static str>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            let _ = self.0.send("dropped");
        }
    }
    let (mut client, server) = tcp_pair();
    let server = Arc::new(server);
    let waiter_side = Arc::clone(&server);
    let (tx, rx) = mpsc::channel();
    let h = coroutine::spawn(move || {
        let _guard = Dropped(tx.clone());
        let mut buf = [0u8; 8];
        let first = waiter_side.try_read(&mut buf);
        assert_eq!(first.unwrap_err().kind(), ErrorKind::WouldBlock);
        tx.send("armed").unwrap();
        let _ = waiter_side.readable();
        tx.send("returned").unwrap();
    });
    assert_eq!(rx.recv().unwrap(), "armed");
    h.coroutine().cancel();
    let err = h.join().expect_err("a cancelled coroutine does not return");
    assert!(err.is_cancelled(), "{err}");
    let events: Vec<_> = rx.try_iter().collect();
    assert_eq!(events, ["dropped"]);

    client.write_all(b"after").unwrap();
    let mut buf = [0u8; 5];
    (&*server).read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"after");
}

/// `try_accept` takes exactly the connections that are there; `readable` waits for the next.
#[test]
fn listener_try_accept_takes_each_connection_once() {
    coroutine::spawn(|| {
        let listener = TcpListener::bind(LOCALHOST).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(
            listener.try_accept().unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let clients: Vec<_> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let mut accepted = 0;
        while accepted < clients.len() {
            match listener.try_accept() {
                Ok(_) => accepted += 1,
                Err(e) if e.kind() == ErrorKind::WouldBlock => listener.readable().unwrap(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            listener.try_accept().unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(accepted, 3);
    })
    .join()
    .unwrap();
}

/// Datagrams: `try_send_to`/`try_recv_from` keep boundaries; every datagram arrives once.
#[test]
fn udp_try_recv_takes_each_datagram_once() {
    coroutine::spawn(|| {
        let a = UdpSocket::bind(LOCALHOST).unwrap();
        let b = UdpSocket::bind(LOCALHOST).unwrap();
        let b_addr = b.local_addr().unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        for len in 1..=10 {
            a.writable().unwrap();
            assert_eq!(a.try_send_to(&vec![len as u8; len], b_addr).unwrap(), len);
        }
        let (mut count, mut bytes) = (0, 0);
        while count < 10 {
            match b.try_recv_from(&mut buf) {
                Ok((n, from)) => {
                    assert_eq!(from, a.local_addr().unwrap());
                    assert!(buf[..n].iter().all(|&x| x as usize == n));
                    count += 1;
                    bytes += n;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => b.readable().unwrap(),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((count, bytes), (10, 55));
        a.connect(b_addr).unwrap();
        assert_eq!(a.try_send(b"xyz").unwrap(), 3);
        b.readable().unwrap();
        assert_eq!(b.peek(&mut buf).unwrap(), 3);
        assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
    })
    .join()
    .unwrap();
}

/// `CoIo` and the Unix sockets have the same API; `UnixDatagram::peek` leaves the datagram.
#[cfg(unix)]
#[test]
fn coio_and_unix_sockets_have_the_readiness_api() {
    use may::io::CoIo;
    use may::os::unix::net::{UnixDatagram, UnixStream};

    coroutine::spawn(|| {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (a, b) = (CoIo::new(a).unwrap(), CoIo::new(b).unwrap());
        let mut buf = [0u8; 16];
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        a.writable().unwrap();
        assert_eq!(a.try_write(b"coio").unwrap(), 4);
        b.readable().unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 4);

        let (s, t) = UnixStream::pair().unwrap();
        assert_eq!(s.try_write(b"stream").unwrap(), 6);
        t.readable().unwrap();
        assert_eq!(t.try_read(&mut buf).unwrap(), 6);

        let (d, e) = UnixDatagram::pair().unwrap();
        assert_eq!(d.try_send(b"hello").unwrap(), 5);
        e.readable().unwrap();
        assert_eq!(e.peek(&mut buf).unwrap(), 5);
        assert_eq!(e.peek(&mut buf[..2]).unwrap(), 2);
        assert_eq!(e.try_recv(&mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(
            e.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
    })
    .join()
    .unwrap();
}
