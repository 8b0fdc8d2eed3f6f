//! What a task is doing, for the runtime's dump: running, ready to run, or waiting on something
//! since some time. The task itself (and the worker that runs it) writes it with plain relaxed
//! stores, on the slow path only (when it parks); anyone may read it, racily: a dump is a
//! snapshot, and a task may have moved on by the time it is printed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What a parked coroutine waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitReason {
    /// A channel receive (`recv`, `recv_timeout`, an iterator).
    ChannelRecv,
    /// A channel send on a full (or rendezvous) channel.
    ChannelSend,
    /// A selection over this many operations (`Select`, `select!`).
    Select {
        /// How many operations it waits on.
        operations: usize,
    },
    /// A `Mutex` lock.
    Mutex,
    /// An `RwLock`, for reading.
    RwLockRead,
    /// An `RwLock`, for writing.
    RwLockWrite,
    /// A `Condvar`.
    Condvar,
    /// A `Semaphore` permit.
    Semaphore,
    /// A `Barrier`.
    Barrier,
    /// A `WaitGroup` reaching zero.
    WaitGroup,
    /// A `Blocker`.
    Blocker,
    /// The end of another coroutine (`join`).
    Join {
        /// The joined coroutine's id.
        id: u64,
    },
    /// The coroutines of a scope it must outlive (`scope`, `join!`, `select!`).
    Scope,
    /// `sleep`, or a timer channel (`after`, `tick`, `never`).
    Sleep,
    /// `coroutine::park`.
    Park,
    /// A socket or descriptor to become readable.
    Readable {
        /// The raw descriptor (socket handle on Windows), as a number.
        fd: u64,
    },
    /// A socket or descriptor to become writable.
    Writable {
        /// The raw descriptor (socket handle on Windows), as a number.
        fd: u64,
    },
    /// A job on the blocking pool (`spawn_blocking`'s wait, name resolution).
    BlockingPool,
    /// A future (`future::block_on`).
    Future,
}

/// Kinds of wait, with their codes as the index (0 is unused): see [`WaitReason::kind_name`].
const KIND_NAMES: [&str; KINDS] = [
    "",
    "channel_recv",
    "channel_send",
    "select",
    "mutex",
    "rwlock_read",
    "rwlock_write",
    "condvar",
    "semaphore",
    "barrier",
    "wait_group",
    "blocker",
    "join",
    "scope",
    "sleep",
    "park",
    "readable",
    "writable",
    "blocking_pool",
    "future",
];

/// How many kind codes there are (codes are `1..KINDS`).
pub(crate) const KINDS: usize = 20;

/// The name of kind `code` (see [`WaitReason::kind_name`]).
pub(crate) fn kind_name(code: usize) -> &'static str {
    KIND_NAMES.get(code).copied().unwrap_or("")
}

impl WaitReason {
    /// A short, stable name of the kind of wait, without its details (`"channel_recv"`,
    /// `"mutex"`, `"readable"`, `"join"`, ...): the keys of `Metrics::parked`, fit for a
    /// metrics label.
    pub fn kind_name(&self) -> &'static str {
        kind_name(self.encode().0 as usize)
    }

    fn encode(self) -> (u64, u64) {
        match self {
            WaitReason::ChannelRecv => (1, 0),
            WaitReason::ChannelSend => (2, 0),
            WaitReason::Select { operations } => (3, operations as u64),
            WaitReason::Mutex => (4, 0),
            WaitReason::RwLockRead => (5, 0),
            WaitReason::RwLockWrite => (6, 0),
            WaitReason::Condvar => (7, 0),
            WaitReason::Semaphore => (8, 0),
            WaitReason::Barrier => (9, 0),
            WaitReason::WaitGroup => (10, 0),
            WaitReason::Blocker => (11, 0),
            WaitReason::Join { id } => (12, id),
            WaitReason::Scope => (13, 0),
            WaitReason::Sleep => (14, 0),
            WaitReason::Park => (15, 0),
            WaitReason::Readable { fd } => (16, fd),
            WaitReason::Writable { fd } => (17, fd),
            WaitReason::BlockingPool => (18, 0),
            WaitReason::Future => (19, 0),
        }
    }

    fn decode(kind: u64, arg: u64) -> Option<WaitReason> {
        Some(match kind {
            1 => WaitReason::ChannelRecv,
            2 => WaitReason::ChannelSend,
            3 => WaitReason::Select {
                operations: arg as usize,
            },
            4 => WaitReason::Mutex,
            5 => WaitReason::RwLockRead,
            6 => WaitReason::RwLockWrite,
            7 => WaitReason::Condvar,
            8 => WaitReason::Semaphore,
            9 => WaitReason::Barrier,
            10 => WaitReason::WaitGroup,
            11 => WaitReason::Blocker,
            12 => WaitReason::Join { id: arg },
            13 => WaitReason::Scope,
            14 => WaitReason::Sleep,
            15 => WaitReason::Park,
            16 => WaitReason::Readable { fd: arg },
            17 => WaitReason::Writable { fd: arg },
            18 => WaitReason::BlockingPool,
            19 => WaitReason::Future,
            _ => return None,
        })
    }
}

impl std::fmt::Display for WaitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitReason::ChannelRecv => f.write_str("channel receive"),
            WaitReason::ChannelSend => f.write_str("channel send"),
            WaitReason::Select { operations } => write!(f, "select over {operations} operations"),
            WaitReason::Mutex => f.write_str("mutex lock"),
            WaitReason::RwLockRead => f.write_str("rwlock read"),
            WaitReason::RwLockWrite => f.write_str("rwlock write"),
            WaitReason::Condvar => f.write_str("condvar"),
            WaitReason::Semaphore => f.write_str("semaphore"),
            WaitReason::Barrier => f.write_str("barrier"),
            WaitReason::WaitGroup => f.write_str("wait group"),
            WaitReason::Blocker => f.write_str("blocker"),
            WaitReason::Join { id } => write!(f, "join of coroutine #{id}"),
            WaitReason::Scope => f.write_str("scope (its coroutines)"),
            WaitReason::Sleep => f.write_str("sleep"),
            WaitReason::Park => f.write_str("park"),
            WaitReason::Readable { fd } => write!(f, "readable fd {fd}"),
            WaitReason::Writable { fd } => write!(f, "writable fd {fd}"),
            WaitReason::BlockingPool => f.write_str("blocking pool job"),
            WaitReason::Future => f.write_str("future"),
        }
    }
}

/// What a task is doing, as seen by a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doing {
    /// Not started yet, or between a wake-up and its next run.
    Ready,
    /// Running on its worker right now.
    Running,
    /// Parked, waiting on this, since this long.
    Waiting(WaitReason, Duration),
}

const READY: u64 = 0;
const RUNNING: u64 = 1;
const WAITING: u64 = 2;

/// The packed activity word: state (2 bits), reason kind (6 bits), since (ms, the rest).
#[derive(Debug, Default)]
pub(crate) struct Activity {
    word: AtomicU64,
    arg: AtomicU64,
}

impl Activity {
    /// The task runs (called by its worker as it resumes it). Returns the kind code of the
    /// wait it comes back from, if it was parked.
    #[inline]
    pub(crate) fn running(&self) -> Option<usize> {
        let kind = self.waiting_kind();
        self.word.store(RUNNING, Ordering::Relaxed);
        kind
    }

    /// The kind code of the wait the task is parked in, if it is (read by its worker between
    /// resumes; only the task and that worker write the word, so this is exact there).
    #[inline]
    pub(crate) fn waiting_kind(&self) -> Option<usize> {
        let word = self.word.load(Ordering::Relaxed);
        (word & 3 == WAITING).then_some(((word >> 2) & 63) as usize)
    }

    /// The task is queued to run again (it yielded).
    #[inline]
    pub(crate) fn ready(&self) {
        self.word.store(READY, Ordering::Relaxed);
    }

    /// The task parks waiting on `reason` (called by the task itself, before switching out).
    #[inline]
    pub(crate) fn waiting(&self, reason: WaitReason) {
        let (kind, arg) = reason.encode();
        self.arg.store(arg, Ordering::Relaxed);
        self.word
            .store(WAITING | kind << 2 | coarse_ms() << 8, Ordering::Relaxed);
    }

    /// A snapshot.
    pub(crate) fn doing(&self) -> Doing {
        let word = self.word.load(Ordering::Relaxed);
        let arg = self.arg.load(Ordering::Relaxed);
        match word & 3 {
            RUNNING => Doing::Running,
            WAITING => match WaitReason::decode((word >> 2) & 63, arg) {
                Some(reason) => {
                    let since = word >> 8;
                    Doing::Waiting(
                        reason,
                        Duration::from_millis(coarse_ms().saturating_sub(since)),
                    )
                }
                None => Doing::Ready,
            },
            _ => Doing::Ready,
        }
    }
}

/// Milliseconds since the runtime's clock started, as of its last tick: a coarse clock that is
/// one relaxed load to read. Workers tick it (see [`tick_clock`]).
static COARSE_MS: AtomicU64 = AtomicU64::new(0);

fn clock_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// The coarse clock's current reading.
#[inline]
pub(crate) fn coarse_ms() -> u64 {
    COARSE_MS.load(Ordering::Relaxed)
}

/// Moves the coarse clock to now. Workers call it every few rounds and after sleeping.
pub(crate) fn tick_clock() {
    let now = u64::try_from(clock_start().elapsed().as_millis()).unwrap_or(u64::MAX >> 8);
    if now != COARSE_MS.load(Ordering::Relaxed) {
        COARSE_MS.store(now, Ordering::Relaxed);
    }
}
