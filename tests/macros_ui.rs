//! Compile-fail tests of the macros' diagnostics, one `tests/ui/<error>.rs` with its expected
//! `.stderr` per error. Regenerate the snapshots with `TRYBUILD=overwrite` and read them: the
//! span must be on the offending token and the message must say what to do.

mod emulation;

#[test]
fn macro_diagnostics() {
    for emulator in ["qemu", "wine"] {
        if emulation::skip_under(
            emulator,
            "macro_diagnostics",
            "trybuild runs the host's cargo, which an emulated test binary cannot start (and the \
             diagnostics do not depend on the target: the native run checks them)",
        ) {
            return;
        }
    }
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
