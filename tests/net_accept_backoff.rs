//! An `incoming()` loop that logs accept errors and goes on does not spin while the process is
//! out of descriptors: after `EMFILE` the next accept waits (5 ms, doubling), so a loop held
//! at the limit for 300 ms sees a handful of errors, where one without back-off sees one per
//! turn (tens of thousands). Once descriptors are free again the waiting client is accepted.
//! Runs in a child process (the test binary itself) with a lowered RLIMIT_NOFILE.

#![cfg(target_os = "linux")] // RLIMIT_NOFILE and /proc/self/fd

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use may::coroutine;
use may::net::TcpListener;

mod emulation;
mod fd_limit;

const CHILD_ENV: &str = "MAY_TEST_BACKOFF_CHILD";
/// How long the loop is held out of descriptors.
const HELD: Duration = Duration::from_millis(300);
/// At most this many errors in `HELD` (the back-off allows 7; a spinning loop makes thousands).
const MOST_ERRORS: usize = 12;

/// CPU time of the whole process (user + system).
fn cpu_time() -> Duration {
    // SAFETY: `usage` is written by `getrusage` before it is read; the call has no other effect.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn child() {
    coroutine::spawn(|| ()).join().unwrap();
    fd_limit::limit_open_files(8);

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    // Take every descriptor left, so that accepting the client fails with EMFILE.
    let mut fillers = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        fillers.push(file);
    }
    let release = Arc::new(AtomicBool::new(false));
    let release_later = Arc::clone(&release);
    coroutine::spawn(move || {
        coroutine::sleep(HELD);
        release_later.store(true, Ordering::SeqCst);
    });
    let cpu_before = cpu_time();
    let server = coroutine::spawn(move || {
        let (mut errors, mut accepted) = (0usize, 0usize);
        for conn in listener.incoming() {
            match conn {
                Ok(_) => {
                    accepted += 1;
                    break;
                }
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => errors += 1,
                Err(e) => panic!("unexpected accept error: {e}"),
            }
            if release.load(Ordering::SeqCst) {
                fillers.clear();
            }
        }
        (errors, accepted)
    });
    let (errors, accepted) = server.join().unwrap();
    let cpu = cpu_time() - cpu_before;
    drop(client);
    println!(
        "errors={errors} accepted={accepted} cpu_ms={}",
        cpu.as_millis()
    );
}

#[test]
fn incoming_backs_off_while_out_of_descriptors() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return;
    }
    let out = emulation::test_binary()
        .args([
            "incoming_backs_off_while_out_of_descriptors",
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
    let field = |name: &str| -> usize {
        let start = stdout.find(&format!("{name}=")).expect(name) + name.len() + 1;
        let digits: String = stdout[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().expect(name)
    };
    assert_eq!(field("accepted"), 1, "{stdout}");
    let errors = field("errors");
    assert!((1..=MOST_ERRORS).contains(&errors), "{stdout}");
    println!(
        "{}",
        stdout
            .lines()
            .find(|l| l.starts_with("errors="))
            .unwrap_or("")
    );
}
