//! UDP and Unix domain sockets through `may::net` and `may::os::unix::net` (Unix only).

#[cfg(unix)]
use std::io::{Read, Write};

use may::coroutine;
use may::net::UdpSocket;
#[cfg(unix)]
use may::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

#[cfg(unix)]
fn temp_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("may-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn udp_send_to_and_recv_from_round_trip_every_datagram() {
    const DATAGRAMS: u32 = 200;
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let server_addr = server.local_addr().unwrap();
    let echo = coroutine::spawn(move || {
        let mut buf = [0u8; 64];
        for _ in 0..DATAGRAMS {
            let (n, peer) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..n], peer).unwrap();
        }
    });
    let client = coroutine::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.connect(server_addr).unwrap();
        let mut sum = 0u64;
        let mut buf = [0u8; 64];
        // One datagram in flight at a time, so loopback never drops one.
        for i in 0..DATAGRAMS {
            socket.send(&i.to_le_bytes()).unwrap();
            let n = socket.recv(&mut buf).unwrap();
            assert_eq!(n, 4);
            let got = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
            assert_eq!(got, i);
            sum += u64::from(got);
        }
        sum
    });
    assert_eq!(
        client.join().unwrap(),
        u64::from(DATAGRAMS * (DATAGRAMS - 1) / 2)
    );
    echo.join().unwrap();
}

#[cfg(unix)]
#[test]
fn unix_stream_echo_between_coroutines() {
    let path = temp_path("stream");
    let listener = UnixListener::bind(&path).unwrap();
    let server = coroutine::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).unwrap();
        stream.write_all(&buf).unwrap();
        buf.len()
    });
    let client_path = path.clone();
    let client = coroutine::spawn(move || {
        let mut stream = UnixStream::connect(&client_path).unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        stream.write_all(&data).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = Vec::new();
        stream.read_to_end(&mut back).unwrap();
        back == data
    });
    assert!(client.join().unwrap(), "bytes came back changed");
    assert_eq!(server.join().unwrap(), 100_000);
    let _ = std::fs::remove_file(&path);
}

#[cfg(unix)]
#[test]
fn unix_datagram_pair_and_bound_sockets() {
    let (a, b) = UnixDatagram::pair().unwrap();
    let h = coroutine::spawn(move || {
        let mut buf = [0u8; 16];
        let mut total = 0;
        for _ in 0..3 {
            total += b.recv(&mut buf).unwrap();
        }
        total
    });
    for msg in [&b"one"[..], b"three", b"seven!!"] {
        a.send(msg).unwrap();
    }
    assert_eq!(h.join().unwrap(), 3 + 5 + 7);

    let path = temp_path("dgram");
    let bound = UnixDatagram::bind(&path).unwrap();
    let sender = UnixDatagram::unbound().unwrap();
    let target = path.clone();
    coroutine::spawn(move || sender.send_to(b"to a path", &target).unwrap())
        .join()
        .unwrap();
    let mut buf = [0u8; 32];
    let (n, _) = bound.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"to a path");
    let _ = std::fs::remove_file(&path);
}

#[cfg(unix)]
#[test]
fn unix_stream_pair_works_from_plain_threads() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 5];
        b.read_exact(&mut buf).unwrap();
        b.write_all(&buf).unwrap();
    });
    a.write_all(b"hello").unwrap();
    let mut back = [0u8; 5];
    a.read_exact(&mut back).unwrap();
    t.join().unwrap();
    assert_eq!(&back, b"hello");
}
