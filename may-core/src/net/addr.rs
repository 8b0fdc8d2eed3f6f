//! Address resolution off the workers, and the "try every address" loop of std.
//!
//! `ToSocketAddrs::to_socket_addrs` may do a DNS lookup, which blocks; inside a coroutine it
//! runs on the blocking pool ([`crate::blocking::run_scoped`]) so that the worker keeps running
//! others. Types that never resolve names (socket addresses and `(ip, port)` tuples) are
//! recognised by their type name and converted in place; an unrecognised name only costs the
//! trip to the pool, never correctness.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Whether `A` is one of std's address types whose conversion never does a lookup.
fn is_numeric<A: ?Sized>() -> bool {
    let name = std::any::type_name::<A>().trim_start_matches('&');
    let net = |n: &str| {
        ["core::net::", "std::net::"]
            .iter()
            .any(|prefix| n.starts_with(prefix))
    };
    match name
        .strip_prefix('(')
        .and_then(|n| n.strip_suffix(", u16)"))
    {
        Some(ip) => net(ip) && ip.rsplit("::").next().is_some_and(|t| t.ends_with("Addr")),
        None => {
            net(name)
                && ["SocketAddr", "SocketAddrV4", "SocketAddrV6"]
                    .iter()
                    .any(|t| name.rsplit("::").next() == Some(*t))
        }
    }
}

/// Resolves `addr`: in place on a plain thread or for numeric addresses, on the blocking pool
/// otherwise.
pub(crate) fn resolve<A: ToSocketAddrs + Send>(addr: A) -> io::Result<Vec<SocketAddr>> {
    if !crate::task::in_task() || is_numeric::<A>() {
        return addr.to_socket_addrs().map(Iterator::collect);
    }
    crate::blocking::run_scoped(move || addr.to_socket_addrs().map(Iterator::collect))
}

/// Calls `f` with each resolved address until one succeeds; the last error otherwise.
pub(crate) fn each_addr<A, T>(
    addr: A,
    mut f: impl FnMut(&SocketAddr) -> io::Result<T>,
) -> io::Result<T>
where
    A: ToSocketAddrs + Send,
{
    let mut last = None;
    for addr in resolve(addr)? {
        match f(&addr) {
            Ok(value) => return Ok(value),
            Err(err) => last = Some(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::is_numeric;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};

    #[test]
    fn numeric_types_are_recognised() {
        assert!(is_numeric::<SocketAddr>());
        assert!(is_numeric::<&SocketAddr>());
        assert!(is_numeric::<SocketAddrV6>());
        assert!(is_numeric::<(IpAddr, u16)>());
        assert!(is_numeric::<(Ipv4Addr, u16)>());
        assert!(!is_numeric::<&str>());
        assert!(!is_numeric::<(&str, u16)>());
        assert!(!is_numeric::<String>());
        assert!(!is_numeric::<&[SocketAddr]>());
    }
}
