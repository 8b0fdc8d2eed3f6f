//! A bounded thread pool for blocking work, so that it never stalls a worker.
