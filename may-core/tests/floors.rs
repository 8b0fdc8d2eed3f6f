//! The house has floors: a module of may-core uses only the modules below it (DESIGN.md,
//! docs/architecture.md). This test reads the sources and fails on any reference to a module
//! of a higher floor outside test code, naming the file and line.

use std::fs;
use std::path::{Path, PathBuf};

/// The top-level modules of may-core, bottom floor first.
const FLOORS: &[&str] = &[
    "loom",
    "spin_lock",
    "sys",
    "task",
    "timer",
    "wait",
    "reactor",
    "scheduler",
    "runtime",
    "sync",
    "select",
    "blocking",
    "io",
    "net",
    "os",
    "coroutine",
    "future",
    "macro_support",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for lib.rs and macros.rs, which
/// assemble the public API and expand at the user's site).
fn module_of(src: &Path, file: &Path) -> Option<&'static str> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    FLOORS.iter().copied().find(|m| *m == name)
}

/// The source without its test modules: by convention they come last in a file, after a
/// `#[cfg(test)]` or `#[cfg(all(test, ...))]` attribute.
fn code_part(text: &str) -> &str {
    let cut = text
        .find("#[cfg(test)]")
        .into_iter()
        .chain(text.find("#[cfg(all(test"))
        .min();
    match cut {
        Some(at) => &text[..at],
        None => text,
    }
}

#[test]
fn every_module_uses_only_the_floors_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let floor = FLOORS.iter().position(|m| *m == module).expect("listed");
        let text = fs::read_to_string(file).expect("readable source file");
        for (number, line) in code_part(&text).lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for (at, _) in line.match_indices("crate::") {
                if at >= 1 && line[..at].ends_with('$') {
                    continue; // `$crate::` in a macro expands at the user's site
                }
                let rest = &line[at + "crate::".len()..];
                let used: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if let Some(used_floor) = FLOORS.iter().position(|m| *m == used) {
                    checked += 1;
                    if used_floor > floor {
                        violations.push(format!(
                            "{}:{}: `{module}` uses `{used}`, a floor above it",
                            file.strip_prefix(&src).unwrap_or(file).display(),
                            number + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} references found: is the parser broken?"
    );
    assert!(
        violations.is_empty(),
        "references to higher floors:\n{}",
        violations.join("\n")
    );
}
