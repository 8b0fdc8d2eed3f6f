//! `may::io::CoIo` over a pipe (Unix) and over sockets (every platform; all it takes on
//! Windows), and `may::coroutine::spawn_blocking`.

use std::io::{Read, Write};
#[cfg(unix)]
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use may::coroutine;
use may::io::CoIo;

#[cfg(unix)]
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    let r = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(r, 0, "pipe failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Two connected loopback sockets, `(reader, writer)`, with small buffers so that the writer of
/// a mebibyte has to wait for the reader many times.
fn socket_pair() -> (std::net::TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let writer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (reader, _) = listener.accept().unwrap();
    socket2::SockRef::from(&writer)
        .set_send_buffer_size(16 * 1024)
        .unwrap();
    socket2::SockRef::from(&reader)
        .set_recv_buffer_size(16 * 1024)
        .unwrap();
    (reader, writer)
}

/// Moves a mebibyte from `w` to `r` between two coroutines: every byte arrives, once.
fn moves_every_byte(mut r: impl Read + Send + 'static, mut w: impl Write + Send + 'static) {
    const TOTAL: usize = 1 << 20;
    let reader = coroutine::spawn(move || {
        let mut buf = vec![0u8; 8192];
        let (mut count, mut sum) = (0usize, 0u64);
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            count += n;
            sum += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
        }
        (count, sum)
    });
    let writer = coroutine::spawn(move || {
        let data: Vec<u8> = (0..TOTAL).map(|i| (i % 256) as u8).collect();
        w.write_all(&data).unwrap();
        // Dropping the writer closes it: the reader sees the end.
        drop(w);
        data.iter().map(|&b| u64::from(b)).sum::<u64>()
    });
    let sent = writer.join().unwrap();
    let (count, sum) = reader.join().unwrap();
    assert_eq!(count, TOTAL);
    assert_eq!(sum, sent);
}

/// A pipe holds 64 KiB: the writer must wait for the reader many times.
#[cfg(unix)]
#[test]
fn coio_moves_every_byte_through_a_pipe() {
    let (r, w) = pipe();
    moves_every_byte(CoIo::new(r).unwrap(), CoIo::new(w).unwrap());
}

#[test]
fn coio_moves_every_byte_through_a_socket() {
    let (r, w) = socket_pair();
    moves_every_byte(CoIo::new(r).unwrap(), CoIo::new(w).unwrap());
}

#[cfg(unix)]
#[test]
fn coio_into_inner_restores_blocking_mode() {
    let (r, _w) = pipe();
    let io = CoIo::new(r).unwrap();
    let r = io.into_inner().unwrap();
    // SAFETY: F_GETFL reads the flags of a descriptor we own.
    let flags = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&r), libc::F_GETFL) };
    assert_eq!(flags & libc::O_NONBLOCK, 0);
}

/// A socket comes back blocking (as it was created): a read with a timeout waits it out.
#[test]
fn coio_into_inner_gives_back_a_blocking_socket() {
    let (r, _w) = socket_pair();
    let r = CoIo::new(r).unwrap().into_inner().unwrap();
    r.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let start = Instant::now();
    let err = (&r).read(&mut [0u8; 1]).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err}"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(50),
        "a non-blocking socket fails at once"
    );
}

#[test]
fn spawn_blocking_runs_off_the_workers_and_returns_results() {
    const JOBS: usize = 32;
    let ran = Arc::new(AtomicUsize::new(0));
    let total = coroutine::spawn({
        let ran = Arc::clone(&ran);
        move || {
            let handles: Vec<_> = (0..JOBS)
                .map(|i| {
                    let ran = Arc::clone(&ran);
                    coroutine::spawn_blocking(move || {
                        // A blocking call that would stall a worker.
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        ran.fetch_add(1, Ordering::SeqCst);
                        let name = std::thread::current().name().map(str::to_owned);
                        (i, name)
                    })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                let (i, name) = h.join().unwrap();
                assert_eq!(name.as_deref(), Some("may-blocking"));
                sum += i;
            }
            sum
        }
    })
    .join()
    .unwrap();
    assert_eq!(total, JOBS * (JOBS - 1) / 2);
    assert_eq!(ran.load(Ordering::SeqCst), JOBS);
}

#[test]
fn spawn_blocking_panic_reaches_join() {
    let err = coroutine::spawn_blocking(|| -> u8 { panic!("boom in the pool") })
        .join()
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("boom in the pool"));
}
