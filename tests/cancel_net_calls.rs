//! Issue 5's cancellation contract for sockets and the blocking pool: a coroutine blocked in
//! `accept`, `connect`, `read`, `write`, `recv_from` or waiting for a `spawn_blocking` job
//! unwinds within 50 ms of `cancel()`, `join()` reports `is_cancelled()`, its destructors run
//! exactly once, and what it would have taken (a connection, bytes, a datagram, buffer space)
//! goes to the next waiter. Loopback only. Helpers are in `cancel_support/`.

mod cancel_support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use may::coroutine;
use may::net::{TcpListener, TcpStream, UdpSocket};
use socket2::SockRef;

use cancel_support::{counter, spawn_blocked, wait_for, BOUND};

const LOCALHOST: (Ipv4Addr, u16) = (Ipv4Addr::LOCALHOST, 0);

/// A connected pair: a may stream and its std peer.
fn tcp_pair() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind(LOCALHOST).unwrap();
    let ours = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (peer, _) = listener.accept().unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    (TcpStream::from(ours), peer)
}

#[test]
fn tcp_accept() {
    let listener = Arc::new(TcpListener::bind(LOCALHOST).unwrap());
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(StdMutex::new(Vec::<SocketAddr>::new()));
    let acceptor = |l: Arc<TcpListener>, acc: Arc<StdMutex<Vec<SocketAddr>>>| {
        move || {
            let (_stream, peer) = l.accept().unwrap();
            acc.lock().unwrap().push(peer);
        }
    };
    let a = spawn_blocked(acceptor(listener.clone(), accepted.clone()));
    let b = spawn_blocked(acceptor(listener, accepted.clone()));
    a.cancel();
    let client = std::net::TcpStream::connect(addr).unwrap();
    b.finish();
    assert_eq!(*accepted.lock().unwrap(), [client.local_addr().unwrap()]);
}

#[test]
fn tcp_connect() {
    // A listener that never accepts, with a full accept queue: Linux drops further SYNs, so a
    // connect stays pending (SYN retransmits) until it is cancelled.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from(LOCALHOST).into()).unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => queued.push(s),
            Err(_) => break,
        }
    }
    assert!(queued.len() < 8, "could not fill the accept queue");
    spawn_blocked(move || drop(TcpStream::connect(addr))).cancel();
}

#[test]
fn tcp_read_peer_silent() {
    let (stream, mut peer) = tcp_pair();
    let stream = Arc::new(stream);
    let got = Arc::new(StdMutex::new(Vec::new()));
    let reader = |s: Arc<TcpStream>, got: Arc<StdMutex<Vec<u8>>>| {
        move || {
            let mut buf = [0u8; 16];
            let n = (&*s).read(&mut buf).unwrap();
            got.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    };
    let a = spawn_blocked(reader(stream.clone(), got.clone()));
    let b = spawn_blocked(reader(stream, got.clone()));
    a.cancel();
    peer.write_all(b"hello").unwrap();
    b.finish();
    assert_eq!(
        *got.lock().unwrap(),
        b"hello",
        "the second reader got every byte"
    );
}

#[test]
fn tcp_write_peer_not_reading() {
    let (stream, mut peer) = tcp_pair();
    // Small buffers, so the writer blocks after a few hundred KiB at most.
    SockRef::from(&peer).set_recv_buffer_size(4096).unwrap();
    let stream = Arc::new(stream);
    SockRef::from(&*stream).set_send_buffer_size(4096).unwrap();
    let written = counter();
    let (s, w) = (stream.clone(), written.clone());
    let a = spawn_blocked(move || {
        let chunk = [0xAAu8; 16 * 1024];
        for _ in 0..4096 {
            let n = (&*s).write(&chunk).unwrap();
            w.fetch_add(n, SeqCst);
        }
    });
    // Blocked once the count stops moving (the checks below hold even if it has not).
    let mut last = usize::MAX;
    wait_for("the writer to fill the socket buffers", || {
        std::thread::sleep(Duration::from_millis(10));
        let now = written.load(SeqCst);
        let stable = now == last;
        last = now;
        stable
    });
    a.cancel();
    let a_bytes = written.load(SeqCst);
    let b = spawn_blocked(move || (&*stream).write_all(&[0xBB; 1024]).unwrap());
    let (mut seen, mut buf) = (Vec::with_capacity(a_bytes + 1024), [0u8; 64 * 1024]);
    while seen.len() < a_bytes + 1024 {
        let n = peer
            .read(&mut buf)
            .expect("the peer receives every byte in time");
        assert!(n > 0, "early EOF after {} bytes", seen.len());
        seen.extend_from_slice(&buf[..n]);
    }
    b.finish();
    assert_eq!(seen.len(), a_bytes + 1024, "no byte lost or added");
    assert!(seen[..a_bytes].iter().all(|&x| x == 0xAA));
    assert!(seen[a_bytes..].iter().all(|&x| x == 0xBB));
}

/// A received datagram and its sender.
type Datagram = (Vec<u8>, SocketAddr);

#[test]
fn udp_recv_from() {
    let socket = Arc::new(UdpSocket::bind(LOCALHOST).unwrap());
    let addr = socket.local_addr().unwrap();
    let got = Arc::new(StdMutex::new(Vec::new()));
    let receiver = |s: Arc<UdpSocket>, got: Arc<StdMutex<Vec<Datagram>>>| {
        move || {
            let mut buf = [0u8; 64];
            let (n, from) = s.recv_from(&mut buf).unwrap();
            got.lock().unwrap().push((buf[..n].to_vec(), from));
        }
    };
    let a = spawn_blocked(receiver(socket.clone(), got.clone()));
    let b = spawn_blocked(receiver(socket, got.clone()));
    a.cancel();
    let sender = std::net::UdpSocket::bind(LOCALHOST).unwrap();
    sender.send_to(b"ping", addr).unwrap();
    b.finish();
    let from = sender.local_addr().unwrap();
    assert_eq!(*got.lock().unwrap(), [(b"ping".to_vec(), from)]);
}
/// A job for the blocking pool that counts itself in `started`, then waits (at most 2 s) for
/// the test to release it and counts itself in `done`.
fn pool_job(
    started: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
) -> (std::sync::mpsc::Sender<()>, impl FnOnce() + Send) {
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let job = move || {
        started.fetch_add(1, SeqCst);
        let _ = wait.recv_timeout(Duration::from_secs(2));
        done.fetch_add(1, SeqCst);
    };
    (go, job)
}

#[test]
fn spawn_blocking_join() {
    let done = counter();
    let (go, job) = pool_job(counter(), done.clone());
    let h = coroutine::spawn_blocking(job);
    let co = h.coroutine().clone();
    spawn_blocked(move || drop(h.join())).cancel();
    go.send(()).unwrap();
    wait_for("the pool job to finish", || co.is_done());
    assert_eq!(done.load(SeqCst), 1, "the job ran once, unaffected");
}

#[test]
fn spawn_blocking_own_coroutine() {
    let done = counter();
    let started = counter();
    let (go, job) = pool_job(started.clone(), done.clone());
    let h = coroutine::spawn_blocking(job);
    // Cancelled before it ever ran, the coroutine would never hand the job to the pool (a
    // coroutine cancelled before its start does not run): wait until the job runs.
    wait_for("the pool job to start", || started.load(SeqCst) == 1);
    let start = Instant::now();
    h.coroutine().cancel();
    let err = h.join().expect_err("cancelled");
    assert!(err.is_cancelled(), "{err}");
    assert!(
        start.elapsed() < BOUND,
        "unwound after {:?}",
        start.elapsed()
    );
    assert_eq!(
        done.load(SeqCst),
        0,
        "cancelling stops the wait, not the job"
    );
    go.send(()).unwrap();
    wait_for("the pool job to finish", || done.load(SeqCst) == 1);
}
