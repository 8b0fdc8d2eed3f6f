//! Shared by the tests that meet an emulator: CI runs the suite under qemu-user (aarch64 Linux)
//! and under wine (Windows), whose runner scripts (`.ci/runner-*`) say so in
//! `MAY_TEST_EMULATOR`. A test skips what its emulator cannot do, saying why on stderr (past the
//! harness's capture, so the CI log shows it), and starts the test binary again in a child
//! process through the same emulator.
#![allow(dead_code)] // each test file uses a different subset

use std::io::Write;
use std::process::Command;

/// Whether the rest of `test` is to be skipped under `emulator` (`"qemu"` or `"wine"`); if so,
/// says so and why on stderr.
pub fn skip_under(emulator: &str, test: &str, reason: &str) -> bool {
    if std::env::var("MAY_TEST_EMULATOR").as_deref() != Ok(emulator) {
        return false;
    }
    let name = if emulator == "qemu" {
        "qemu-user"
    } else {
        emulator
    };
    let _ = writeln!(
        std::io::stderr(),
        "skipped: {test} under {name}, because {reason}"
    );
    true
}

/// A command that runs the current test binary (with no arguments yet). An emulated test binary
/// (qemu-user) cannot start a copy of itself directly, since the kernel does not know its
/// format: its runner script names itself in `MAY_TEST_RUNNER`, and the child starts through it.
pub fn test_binary() -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    match std::env::var("MAY_TEST_RUNNER") {
        Ok(runner) if !runner.trim().is_empty() => {
            let mut words = runner.split_whitespace();
            let mut command = Command::new(words.next().unwrap_or_default());
            command.args(words).arg(exe);
            command
        }
        _ => Command::new(exe),
    }
}
