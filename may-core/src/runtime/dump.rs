//! What every live coroutine is doing: [`dump`], and a human-readable form grouped by what they
//! wait on, like Go's goroutine dump ([`print_dump`], [`format_dump`]).
//!
//! Nothing is recorded while nobody dumps beyond what the coroutines do anyway: each worker keeps
//! the coroutines it started in a registry of its own (no global list on spawn), and a coroutine
//! notes what it waits on only when it parks. A dump walks the registries one worker at a time,
//! so it is safe from any thread while coroutines run, and it is a snapshot: a coroutine may
//! have moved on by the time it is printed.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::time::Duration;

pub use crate::task::WaitReason;
use crate::task::{Doing, Task};

/// What a coroutine is doing at the moment of a [`dump`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoroutineState {
    /// Running on its worker.
    Running,
    /// Ready to run: queued behind others on its worker (it yielded, or was just woken).
    Ready,
    /// Parked until something happens.
    Waiting {
        /// What it waits on.
        on: WaitReason,
        /// For how long, to the millisecond or so (the runtime's clock is coarse).
        since: Duration,
    },
}

/// One live (started, not finished) coroutine, as seen by [`dump`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CoroutineInfo {
    /// Its id (as `CoroutineId::as_u64`).
    pub id: u64,
    /// Its name, if it was given one.
    pub name: Option<String>,
    /// What it is doing.
    pub state: CoroutineState,
    /// The worker it runs on (a started coroutine never changes workers).
    pub worker: usize,
    /// Its stack size in bytes.
    pub stack_size: usize,
    /// For a wait on a socket (readable, writable): the socket's local address, if it is an IP
    /// socket still open when the dump looked.
    pub local_addr: Option<SocketAddr>,
    /// For a wait on a connected socket: its peer's address (as `local_addr`).
    pub peer_addr: Option<SocketAddr>,
}

impl CoroutineInfo {
    fn of(worker: usize, task: &Task) -> CoroutineInfo {
        let state = match task.activity.doing() {
            Doing::Running => CoroutineState::Running,
            Doing::Ready => CoroutineState::Ready,
            Doing::Waiting(on, since) => CoroutineState::Waiting { on, since },
        };
        CoroutineInfo {
            id: task.id,
            name: task.name.as_deref().map(str::to_owned),
            state,
            worker,
            stack_size: task.stack_size,
            local_addr: None,
            peer_addr: None,
        }
    }

    /// Looks up the addresses of the socket it waits on, if any (a system call or two, made
    /// outside the registries' locks).
    fn add_socket_addresses(&mut self) {
        if let CoroutineState::Waiting {
            on: WaitReason::Readable { fd } | WaitReason::Writable { fd },
            ..
        } = self.state
        {
            (self.local_addr, self.peer_addr) = crate::sys::socket_addresses(fd);
        }
    }
}

/// Every coroutine that has started and not finished, with what it is doing. Coroutines
/// spawned but not started yet are not listed (see `Metrics::queued`). Does not start the
/// runtime; safe to call from any thread, coroutines included.
///
/// ```
/// let (tx, rx) = may_core::sync::mpmc::bounded::<()>(0);
/// let h = may_core::coroutine::Builder::new()
///     .name("waiter")
///     .spawn(move || rx.recv())
///     .unwrap();
/// // Give it a moment to park, then look.
/// let found = (0..1000).find_map(|_| {
///     std::thread::sleep(std::time::Duration::from_millis(1));
///     may_core::runtime::dump()
///         .into_iter()
///         .find(|c| c.name.as_deref() == Some("waiter") && c.state != may_core::runtime::CoroutineState::Ready)
/// });
/// assert!(found.is_some());
/// drop(tx);
/// h.join().unwrap().unwrap_err();
/// ```
pub fn dump() -> Vec<CoroutineInfo> {
    let Some(rt) = crate::scheduler::try_runtime() else {
        return Vec::new();
    };
    let mut infos = Vec::new();
    rt.for_each_task(|worker, task| infos.push(CoroutineInfo::of(worker, task)));
    infos
        .iter_mut()
        .for_each(CoroutineInfo::add_socket_addresses);
    infos
}

/// Lines listed per group before "... and N more".
const LISTED_PER_GROUP: usize = 10;

/// Formats a dump for people: a count, then the coroutines grouped by what they do (the largest
/// group first), each group with the longest waits first and at most ten listed. Waits on
/// descriptors are grouped by direction, with each coroutine's descriptor on its line.
pub fn format_dump(infos: &[CoroutineInfo]) -> String {
    let mut groups: BTreeMap<String, Vec<(&CoroutineInfo, Option<String>)>> = BTreeMap::new();
    for info in infos {
        let (key, detail) = group_of(info);
        groups.entry(key).or_default().push((info, detail));
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    let mut out = String::new();
    let _ = writeln!(out, "may: {} live coroutines", infos.len());
    for (what, mut members) in groups {
        members.sort_by_key(|(c, _)| std::cmp::Reverse(waited(c)));
        let noun = if members.len() == 1 {
            "coroutine"
        } else {
            "coroutines"
        };
        let _ = writeln!(out, "\n{} {noun} {what}", members.len());
        for (c, detail) in members.iter().take(LISTED_PER_GROUP) {
            let name = c
                .name
                .as_deref()
                .map_or_else(String::new, |n| format!(" {n:?}"));
            let _ = write!(out, "  #{}{name}", c.id);
            if let Some(detail) = detail {
                let _ = write!(out, " ({detail})");
            }
            let _ = write!(out, " on worker {}", c.worker);
            if let Some(since) = waited(c) {
                let _ = write!(out, ", for {}", human(since));
            }
            let _ = writeln!(out, " ({} KiB stack)", c.stack_size / 1024);
        }
        if members.len() > LISTED_PER_GROUP {
            let _ = writeln!(out, "  ... and {} more", members.len() - LISTED_PER_GROUP);
        }
    }
    out
}

/// The group a coroutine is listed in, and what its line adds.
fn group_of(info: &CoroutineInfo) -> (String, Option<String>) {
    let socket = |fd: u64| {
        let mut detail = format!("fd {fd}");
        if let Some(local) = info.local_addr {
            let _ = write!(detail, ", local {local}");
        }
        if let Some(peer) = info.peer_addr {
            let _ = write!(detail, ", peer {peer}");
        }
        detail
    };
    match info.state {
        CoroutineState::Running => ("running".to_string(), None),
        CoroutineState::Ready => ("ready to run".to_string(), None),
        CoroutineState::Waiting {
            on: WaitReason::Readable { fd },
            ..
        } => (
            "waiting for a socket or descriptor to become readable".to_string(),
            Some(socket(fd)),
        ),
        CoroutineState::Waiting {
            on: WaitReason::Writable { fd },
            ..
        } => (
            "waiting for a socket or descriptor to become writable".to_string(),
            Some(socket(fd)),
        ),
        CoroutineState::Waiting { on, .. } => (format!("waiting on {on}"), None),
    }
}

fn waited(info: &CoroutineInfo) -> Option<Duration> {
    match info.state {
        CoroutineState::Waiting { since, .. } => Some(since),
        _ => None,
    }
}

fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 120_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} min", ms / 60_000)
    }
}

/// Prints [`format_dump`] of a fresh [`dump`] to stderr.
pub fn print_dump() {
    eprint!("{}", format_dump(&dump()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: u64, name: Option<&str>, state: CoroutineState) -> CoroutineInfo {
        CoroutineInfo {
            id,
            name: name.map(str::to_owned),
            state,
            worker: (id % 2) as usize,
            stack_size: 64 * 1024,
            local_addr: None,
            peer_addr: None,
        }
    }

    fn waiting(on: WaitReason, ms: u64) -> CoroutineState {
        CoroutineState::Waiting {
            on,
            since: Duration::from_millis(ms),
        }
    }

    #[test]
    fn groups_largest_first_longest_wait_first_ten_listed() {
        let mut infos: Vec<CoroutineInfo> = (0..12)
            .map(|i| info(i, None, waiting(WaitReason::Sleep, i * 10)))
            .collect();
        infos.push(info(
            20,
            Some("a"),
            waiting(WaitReason::Readable { fd: 7 }, 5),
        ));
        let mut b = info(
            21,
            Some("b"),
            waiting(WaitReason::Readable { fd: 9 }, 2_500),
        );
        b.local_addr = Some(([127, 0, 0, 1], 8080).into());
        b.peer_addr = Some(([127, 0, 0, 1], 50000).into());
        infos.push(b);
        infos.push(info(22, Some("main"), CoroutineState::Running));
        let text = format_dump(&infos);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "may: 15 live coroutines");
        assert_eq!(lines[2], "12 coroutines waiting on sleep");
        assert_eq!(lines[3], "  #11 on worker 1, for 110 ms (64 KiB stack)");
        assert_eq!(lines[13], "  ... and 2 more");
        let readable = "2 coroutines waiting for a socket or descriptor to become readable";
        let at = lines.iter().position(|l| *l == readable).unwrap();
        assert_eq!(
            lines[at + 1],
            "  #21 \"b\" (fd 9, local 127.0.0.1:8080, peer 127.0.0.1:50000) on worker 1, for 2.5 s (64 KiB stack)"
        );
        assert_eq!(
            lines[at + 2],
            "  #20 \"a\" (fd 7) on worker 0, for 5 ms (64 KiB stack)"
        );
        assert!(text.contains("1 coroutine running\n  #22 \"main\" on worker 0 (64 KiB stack)"));
    }
}
