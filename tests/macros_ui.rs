//! Compile-fail tests of the macros' diagnostics, one `tests/ui/<error>.rs` with its expected
//! `.stderr` per error. Regenerate the snapshots with `TRYBUILD=overwrite` and read them: the
//! span must be on the offending token and the message must say what to do.

#[test]
fn macro_diagnostics() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
