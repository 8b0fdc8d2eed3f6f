//! The runtime as a whole: its configuration, its start on first use, and what it reports
//! (counters, and a dump of every coroutine).
//!
//! This floor sits right above the scheduler: it starts it with the configured worker count and
//! hands the pool capacity to the stack allocator. Everything that spawns (the public
//! `coroutine` layer) comes through here.

mod config;
mod dump;
mod dump_signal;
mod metrics;

pub use config::{config, Config, ConfigError};
pub use dump::{dump, format_dump, print_dump, CoroutineInfo, CoroutineState, WaitReason};
pub use dump_signal::dump_on_signal;
pub(crate) use metrics::count_blocking_job;
pub use metrics::{metrics, Metrics, StackMetrics, WorkerMetrics};

use crate::scheduler::{self, Params};

/// The scheduler, started on first use with the configuration.
pub(crate) fn scheduler() -> &'static scheduler::Runtime {
    scheduler::start(|| {
        let workers = config().freeze();
        config().apply_pool_capacity();
        dump_signal::from_env();
        Params { workers }
    })
}
