//! Runtime configuration: worker count, default stack size, stack-pool capacity and the bound
//! on blocking-pool threads.
//!
//! Values come from, in order of precedence: calls to [`config()`] made before the runtime starts,
//! the `MAY_WORKERS` / `MAY_STACK_SIZE` / `MAY_POOL_CAPACITY` / `MAY_BLOCKING_THREADS`
//! environment variables, then the defaults. The worker count is fixed once the first coroutine is spawned; setting it later is
//! reported on stderr and ignored. Stack size and pool capacity may change at any time and apply
//! to coroutines spawned afterwards.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::task::stack::{DEFAULT_STACK_SIZE, MAX_STACK_SIZE};

/// Default number of finished stacks each worker keeps for reuse.
const DEFAULT_POOL_CAPACITY: usize = 1000;
/// Default bound on the threads of the blocking pool (`spawn_blocking`, name resolution).
const DEFAULT_BLOCKING_THREADS: usize = 64;

/// The runtime's configuration. Obtain it with [`config()`]; the setters chain.
///
/// ```
/// may_core::config().set_stack_size(64 * 1024).set_pool_capacity(500);
/// assert_eq!(may_core::config().stack_size(), 64 * 1024);
/// ```
#[derive(Debug)]
pub struct Config {
    workers: AtomicUsize,
    stack_size: AtomicUsize,
    pool_capacity: AtomicUsize,
    blocking_threads: AtomicUsize,
    started: AtomicBool,
}

/// The process-wide runtime configuration.
pub fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(Config::from_env)
}

impl Config {
    fn from_env() -> Config {
        let workers = env_number("MAY_WORKERS").unwrap_or(0);
        let stack_size = env_number("MAY_STACK_SIZE").unwrap_or(DEFAULT_STACK_SIZE);
        let pool_capacity = env_number("MAY_POOL_CAPACITY").unwrap_or(DEFAULT_POOL_CAPACITY);
        let blocking_threads = env_number("MAY_BLOCKING_THREADS")
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_BLOCKING_THREADS);
        Config {
            workers: AtomicUsize::new(workers),
            stack_size: AtomicUsize::new(sanitize_stack_size(stack_size)),
            pool_capacity: AtomicUsize::new(pool_capacity),
            blocking_threads: AtomicUsize::new(blocking_threads),
            started: AtomicBool::new(false),
        }
    }

    /// Sets the number of worker threads; `0` means one per CPU.
    ///
    /// Takes effect only before the runtime starts (the first spawn); a later call is reported
    /// on stderr and ignored, see [`Config::try_set_workers`] for a checked variant.
    pub fn set_workers(&self, workers: usize) -> &Self {
        if let Err(err) = self.try_set_workers(workers) {
            eprintln!("may: {err}");
        }
        self
    }

    /// Sets the number of worker threads, or explains why it cannot: the worker count is fixed
    /// once the runtime has started.
    pub fn try_set_workers(&self, workers: usize) -> Result<&Self, ConfigError> {
        if self.started.load(Ordering::Acquire) {
            let running = self.workers();
            if running != resolve_workers(workers) {
                return Err(ConfigError::AlreadyStarted {
                    running,
                    requested: workers,
                });
            }
            return Ok(self);
        }
        self.workers.store(workers, Ordering::Release);
        Ok(self)
    }

    /// Sets the default stack size of new coroutines, in bytes. Sizes are rounded up to whole
    /// pages; values below the minimum are raised to it and values above 1 GiB are capped.
    pub fn set_stack_size(&self, bytes: usize) -> &Self {
        self.stack_size
            .store(sanitize_stack_size(bytes), Ordering::Release);
        self
    }

    /// Sets how many finished stacks are kept for reuse, per worker (0 disables pooling): each
    /// thread caches up to 64 of them (fewer if the capacity is lower) and the rest go to a
    /// pool shared by all threads that holds up to `capacity × workers` stacks of each size.
    /// Stacks beyond that go back to the memory they were carved from, whose pages are given
    /// back to the system in batches. Takes effect at once.
    pub fn set_pool_capacity(&self, capacity: usize) -> &Self {
        self.pool_capacity.store(capacity, Ordering::Release);
        if self.started.load(Ordering::Acquire) {
            self.apply_pool_capacity();
        }
        self
    }

    /// Hands the pool capacity to the stack allocator.
    pub(crate) fn apply_pool_capacity(&self) {
        let capacity = self.pool_capacity();
        crate::task::stack::set_pool_capacity(capacity, capacity.saturating_mul(self.workers()));
    }

    /// Sets the most threads the blocking pool (`spawn_blocking`, name resolution) may run at
    /// once; values below 1 are raised to 1. Takes effect for threads started afterwards.
    pub fn set_blocking_threads(&self, threads: usize) -> &Self {
        self.blocking_threads
            .store(threads.max(1), Ordering::Relaxed);
        self
    }

    /// The most threads the blocking pool may run at once (default 64).
    pub fn blocking_threads(&self) -> usize {
        self.blocking_threads.load(Ordering::Relaxed)
    }

    /// The number of worker threads the runtime uses (or will use).
    pub fn workers(&self) -> usize {
        resolve_workers(self.workers.load(Ordering::Acquire))
    }

    /// The default stack size of new coroutines, in bytes.
    pub fn stack_size(&self) -> usize {
        self.stack_size.load(Ordering::Acquire)
    }

    /// How many finished stacks are kept for reuse, per worker (see [`Config::set_pool_capacity`]).
    pub fn pool_capacity(&self) -> usize {
        self.pool_capacity.load(Ordering::Relaxed)
    }

    /// Marks the configuration as in use by a running runtime; returns the worker count.
    pub(crate) fn freeze(&self) -> usize {
        self.started.store(true, Ordering::Release);
        self.workers()
    }
}

/// Why a configuration change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The worker count cannot change once the runtime runs.
    AlreadyStarted {
        /// Workers the runtime is running with.
        running: usize,
        /// Workers that were asked for.
        requested: usize,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::AlreadyStarted { running, requested } => write!(
                f,
                "set_workers({requested}) ignored: the runtime already runs with {running} \
                 workers; configure before the first spawn"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

fn resolve_workers(workers: usize) -> usize {
    if workers == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        workers
    }
}

fn sanitize_stack_size(bytes: usize) -> usize {
    crate::task::stack::round_stack_size(bytes.min(MAX_STACK_SIZE))
}

fn env_number(name: &str) -> Option<usize> {
    let raw = std::env::var(name).ok()?;
    match crate::task::stack::parse_size(&raw) {
        Ok(n) => Some(n),
        Err(err) => {
            eprintln!("may: ignoring {name}={raw:?}: {err}");
            None
        }
    }
}
