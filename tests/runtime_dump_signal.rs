//! The dump on a signal: with `MAY_DUMP_SIGNAL=SIGUSR1`, `kill -USR1` makes a running program
//! print what its coroutines wait on to stderr, and it runs on; a bad value is reported and
//! ignored. Each case runs in a child process (signals and the environment are per process).
#![cfg(unix)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use may::coroutine::Builder;
use may::sync::mpmc;

mod emulation;

const CHILD_ENV: &str = "MAY_TEST_DUMP_SIGNAL_CHILD";

/// The child: three named coroutines parked on a channel, then "ready" on stdout; it exits when
/// its stdin closes, after checking its coroutines are still there (a dump does not disturb
/// them).
fn child() {
    let (tx, rx) = mpmc::unbounded::<u32>();
    let waiters: Vec<_> = (0..3)
        .map(|i| {
            let rx = rx.clone();
            Builder::new()
                .name(format!("signal-waiter-{i}"))
                .spawn(move || rx.recv().unwrap())
                .unwrap()
        })
        .collect();
    while may::runtime::dump()
        .iter()
        .filter(|c| matches!(c.state, may::runtime::CoroutineState::Waiting { .. }))
        .count()
        < 3
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("ready");
    std::io::stdout().flush().unwrap();
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    let sum: u32 = waiters.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, 3);
    println!("child-ok");
}

#[test]
fn sigusr1_prints_the_dump_and_the_program_runs_on() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child();
    }
    let mut child = emulation::test_binary()
        .args([
            "sigusr1_prints_the_dump_and_the_program_runs_on",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .env("MAY_DUMP_SIGNAL", "usr1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("ready") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the child ended before it was ready"
        );
    }
    // Read stderr on a thread, line by line, so the wait for the dump is bounded.
    let (lines_tx, lines) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let pid = child.id() as libc::pid_t;
    let mut seen = Vec::new();
    for _round in 0..2 {
        // SAFETY: sends SIGUSR1 to our own child process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("no dump after SIGUSR1; stderr so far: {seen:#?}"));
            seen.push(line.clone());
            if line.contains("3 coroutines waiting on channel receive") {
                break;
            }
        }
    }
    assert_eq!(
        seen.iter()
            .filter(|l| l.starts_with("may: ") && l.ends_with("live coroutines"))
            .count(),
        2,
        "two dumps, one per signal: {seen:#?}"
    );
    for i in 0..3 {
        let name = format!("\"signal-waiter-{i}\"");
        assert!(
            seen.iter().any(|l| l.contains(&name)),
            "{name} missing: {seen:#?}"
        );
    }
    drop(child.stdin.take());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(rest.contains("child-ok"), "{rest}");
}

#[test]
fn a_bad_signal_name_is_reported_and_ignored() {
    if std::env::var_os(CHILD_ENV).is_some() {
        // The runtime starts and works despite the bad value.
        assert_eq!(may::coroutine::spawn(|| 7).join().unwrap(), 7);
        println!("child-ok");
        return;
    }
    let out = emulation::test_binary()
        .args([
            "a_bad_signal_name_is_reported_and_ignored",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .env("MAY_DUMP_SIGNAL", "SIGKILL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("child-ok"));
    assert!(
        stderr.contains("may: ignoring MAY_DUMP_SIGNAL=\"SIGKILL\"")
            && stderr.contains("SIGUSR1, SIGUSR2, SIGQUIT"),
        "{stderr}"
    );
}

#[test]
fn dump_on_signal_rejects_other_signals() {
    let err = may::runtime::dump_on_signal("SIGTERM").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    // Installing twice for the same signal is fine.
    may::runtime::dump_on_signal("SIGUSR2").unwrap();
    may::runtime::dump_on_signal("sigusr2").unwrap();
}
