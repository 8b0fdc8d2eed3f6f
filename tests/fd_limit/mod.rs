//! Shared by the tests that run a child process out of file descriptors (`net_emfile`,
//! `net_accept_backoff`): lowering the open-files limit of the calling process.

/// The descriptors this process has open now.
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// Lowers RLIMIT_NOFILE (soft and hard) so that the process can open `headroom` descriptors
/// beyond those it has open now. Start the runtime first, so that its
/// epoll and eventfd descriptors are counted.
pub fn limit_open_files(headroom: u64) {
    let limit = open_fds() + headroom;
    let rl = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: `rl` is a valid rlimit for the duration of the call.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &rl) }, 0);
}
