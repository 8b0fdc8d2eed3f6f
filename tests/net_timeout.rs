//! Read, write and connect timeouts of `may::net`, in coroutines and on plain threads, and the
//! cancellation of a coroutine blocked in a read.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use may::coroutine;
use may::net::{TcpListener, TcpStream};

/// A connected pair: (client side, server side).
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

#[test]
fn read_timeout_expires_in_a_coroutine_and_the_socket_stays_usable() {
    let h = coroutine::spawn(|| {
        let (mut client, mut server) = pair();
        client
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        assert_eq!(
            client.read_timeout().unwrap(),
            Some(Duration::from_millis(50))
        );
        let mut buf = [0u8; 4];
        let err = client.read(&mut buf).unwrap_err();
        server.write_all(b"late").unwrap();
        client.read_exact(&mut buf).unwrap();
        (err.kind(), buf)
    });
    let (kind, buf) = h.join().unwrap();
    assert_eq!(kind, ErrorKind::WouldBlock);
    assert_eq!(&buf, b"late");
}

#[test]
fn read_timeout_expires_on_a_plain_thread() {
    let (mut client, _server) = pair();
    client
        .set_read_timeout(Some(Duration::from_millis(30)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        client.read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[test]
fn zero_timeout_is_rejected_like_std() {
    let (client, _server) = pair();
    let err = client.set_read_timeout(Some(Duration::ZERO)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn write_timeout_expires_when_the_peer_does_not_read() {
    let h = coroutine::spawn(|| {
        let (mut client, _server) = pair();
        client
            .set_write_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let chunk = vec![1u8; 64 * 1024];
        let mut written = 0usize;
        // Bounded: the socket buffers hold a few MiB at most.
        for _ in 0..4096 {
            match client.write(&chunk) {
                Ok(n) => written += n,
                Err(e) => return (Some(e.kind()), written),
            }
        }
        (None, written)
    });
    let (kind, written) = h.join().unwrap();
    assert_eq!(kind, Some(ErrorKind::WouldBlock));
    assert!(written > 0);
}

#[test]
fn connect_timeout_to_a_full_backlog_times_out() {
    // A listener that never accepts, with the smallest backlog: once its queue is full the
    // kernel drops further SYNs, so a connect can only time out (loopback only).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut queued = Vec::new();
    let mut filled = false;
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => queued.push(s),
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                filled = true;
                break;
            }
            Err(e) => panic!("unexpected connect error: {e}"),
        }
    }
    assert!(filled, "the backlog never filled up");
    let h = coroutine::spawn(move || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(100)).map(|_| ())
    });
    assert_eq!(h.join().unwrap().unwrap_err().kind(), ErrorKind::TimedOut);
    let in_thread = TcpStream::connect_timeout(&addr, Duration::from_millis(50)).map(|_| ());
    assert_eq!(in_thread.unwrap_err().kind(), ErrorKind::TimedOut);
    drop(queued);
}

#[test]
fn cancelling_a_coroutine_blocked_in_read_unwinds_it() {
    let (client, server) = pair();
    let h = coroutine::spawn(move || {
        let mut client = client;
        let mut buf = [0u8; 1];
        let _ = client.read(&mut buf);
        "returned"
    });
    // No data ever comes, so whether the cancel lands before or during the read, the read
    // is where the coroutine unwinds.
    h.coroutine().cancel();
    let err = h.join().unwrap_err();
    assert!(err.is_cancelled());
    drop(server);
}
