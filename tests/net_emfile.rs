//! Accepting past the open-files limit: `accept` returns EMFILE to the accept loop, and the
//! server keeps serving once descriptors are free. Runs in a child process (the test binary
//! itself) with a lowered RLIMIT_NOFILE, so the limit does not hurt other tests.

#![cfg(target_os = "linux")] // RLIMIT_NOFILE and /proc/self/fd

use std::io::{Read, Write};

use may::coroutine;
use may::net::TcpListener;

mod emulation;
mod fd_limit;

const CHILD_ENV: &str = "MAY_TEST_EMFILE_CHILD";
const CLIENTS: usize = 15;
/// Descriptors the child may open on top of the ones it has when it lowers the limit.
const HEADROOM: u64 = 20;

fn child() {
    // Start the runtime (its epoll and eventfd descriptors) before counting.
    coroutine::spawn(|| ()).join().unwrap();
    fd_limit::limit_open_files(HEADROOM);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Connect every client first (the kernel completes the handshakes from the backlog), so
    // that only the server runs into the limit: it can hold HEADROOM - 1 - CLIENTS at once.
    let mut clients: Vec<_> = (0..CLIENTS)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let server = coroutine::spawn(move || {
        let mut held = Vec::new();
        let (mut accepted, mut emfile) = (0usize, 0usize);
        while accepted < CLIENTS {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    stream.write_all(b"k").unwrap();
                    held.push(stream);
                    accepted += 1;
                }
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                    emfile += 1;
                    // Free our descriptors; the pending connections wait in the backlog.
                    held.clear();
                }
                Err(e) => panic!("unexpected accept error: {e}"),
            }
        }
        (accepted, emfile)
    });
    let (accepted, emfile) = server.join().unwrap();
    let mut served = 0;
    for client in &mut clients {
        let mut byte = [0u8; 1];
        client.read_exact(&mut byte).unwrap();
        served += usize::from(byte == *b"k");
    }
    println!(
        "accepted={accepted} served={served} emfile_seen={}",
        emfile > 0
    );
}

#[test]
fn accept_reports_emfile_and_keeps_serving() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return;
    }
    let out = emulation::test_binary()
        .args([
            "accept_reports_emfile_and_keeps_serving",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "accepted={CLIENTS} served={CLIENTS} emfile_seen=true"
        )),
        "{stdout}"
    );
}
