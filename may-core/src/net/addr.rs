//! Address resolution off the workers, and the "try every address" loop of std.
//!
//! `ToSocketAddrs::to_socket_addrs` may do a DNS lookup, which blocks; inside a coroutine it
//! runs on the blocking pool ([`crate::blocking::run_scoped`]) so that the worker keeps running
//! others. Addresses that never need a lookup are converted in place, so that `bind` and
//! `connect` on them finish before the calling coroutine first yields: socket addresses,
//! `(ip, port)` tuples and slices of socket addresses, and strings (`&str`, `String`) or
//! `(host, port)` tuples whose text is a literal address, which std's conversion parses without
//! a lookup. The types are told apart by their `TypeId` (up to lifetimes: the caller's `&str` is
//! not `'static`); an unrecognised type only costs the trip to the pool, never correctness.

use std::any::TypeId;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, ToSocketAddrs};

/// The address types whose conversion never does a lookup, and references to them.
const NUMERIC: &[fn() -> TypeId] = &[
    typeid::of::<SocketAddr>,
    typeid::of::<SocketAddrV4>,
    typeid::of::<SocketAddrV6>,
    typeid::of::<(IpAddr, u16)>,
    typeid::of::<(Ipv4Addr, u16)>,
    typeid::of::<(Ipv6Addr, u16)>,
    typeid::of::<&[SocketAddr]>,
    typeid::of::<&SocketAddr>,
    typeid::of::<&SocketAddrV4>,
    typeid::of::<&SocketAddrV6>,
    typeid::of::<&(IpAddr, u16)>,
    typeid::of::<&(Ipv4Addr, u16)>,
    typeid::of::<&(Ipv6Addr, u16)>,
];

/// Whether converting `addr` needs no name lookup (see the module docs).
fn resolves_in_place<A: ToSocketAddrs>(addr: &A) -> bool {
    let id = typeid::of::<A>();
    if NUMERIC.iter().any(|of| of() == id) {
        return true;
    }
    // The same tests std's conversions make before they fall back to a lookup.
    if let Some(text) = text(addr) {
        return text.parse::<SocketAddr>().is_ok();
    }
    if let Some(host) = host_of_pair(addr) {
        return host.parse::<IpAddr>().is_ok();
    }
    false
}

/// The text of `addr` when `A` is `&str`, `String` or `&String`.
fn text<'a, A>(addr: &'a A) -> Option<&'a str> {
    let id = typeid::of::<A>();
    let ptr = (addr as *const A).cast::<()>();
    if id == typeid::of::<&str>() {
        // SAFETY: `A` is `&'x str` for some 'x (type ids are equal up to lifetimes, which do
        // not change the layout), and 'x outlives 'a since `addr: &'a A` is well-formed: the
        // read copies the reference with a lifetime that is only shorter.
        return Some(unsafe { *ptr.cast::<&'a str>() });
    }
    if id == TypeId::of::<String>() {
        // SAFETY: `A` is `String`; the cast changes nothing.
        return Some(unsafe { &*ptr.cast::<String>() });
    }
    if id == typeid::of::<&String>() {
        // SAFETY: `A` is `&'x String` with 'x outliving 'a, as for `&str` above.
        return Some(unsafe { *ptr.cast::<&'a String>() });
    }
    None
}

/// The host of `addr` when `A` is `(&str, u16)` or `(String, u16)`.
fn host_of_pair<'a, A>(addr: &'a A) -> Option<&'a str> {
    let id = typeid::of::<A>();
    let ptr = (addr as *const A).cast::<()>();
    if id == typeid::of::<(&str, u16)>() {
        // SAFETY: `A` is `(&'x str, u16)` with 'x outliving 'a, as in `text`.
        return Some(unsafe { &*ptr.cast::<(&'a str, u16)>() }.0);
    }
    if id == TypeId::of::<(String, u16)>() {
        // SAFETY: `A` is `(String, u16)`; the cast changes nothing.
        return Some(unsafe { &*ptr.cast::<(String, u16)>() }.0.as_str());
    }
    None
}

/// Resolves `addr`: in place on a plain thread or when no lookup is needed, on the blocking
/// pool otherwise.
pub(crate) fn resolve<A: ToSocketAddrs + Send>(addr: A) -> io::Result<Vec<SocketAddr>> {
    if !crate::task::in_task() || resolves_in_place(&addr) {
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
    use super::resolves_in_place;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};

    #[test]
    fn numeric_types_resolve_in_place() {
        let v4 = SocketAddr::from(([127, 0, 0, 1], 80));
        let v6 = SocketAddrV6::new(std::net::Ipv6Addr::LOCALHOST, 80, 0, 0);
        assert!(resolves_in_place(&v4));
        assert!(resolves_in_place(&&v4));
        assert!(resolves_in_place(&v6));
        assert!(resolves_in_place(&(IpAddr::from([10, 0, 0, 1]), 80)));
        assert!(resolves_in_place(&(Ipv4Addr::LOCALHOST, 80)));
        assert!(resolves_in_place(&&[v4, v4][..]));
    }

    #[test]
    fn literal_strings_resolve_in_place_and_names_do_not() {
        assert!(resolves_in_place(&"127.0.0.1:8000"));
        assert!(resolves_in_place(&"[::1]:8000"));
        assert!(resolves_in_place(&String::from("1.2.3.4:80")));
        assert!(resolves_in_place(&&String::from("1.2.3.4:80")));
        assert!(resolves_in_place(&("127.0.0.1", 8000)));
        assert!(resolves_in_place(&("::1", 8000)));
        assert!(resolves_in_place(&(String::from("10.1.2.3"), 8000)));
        assert!(!resolves_in_place(&"localhost:8000"));
        assert!(!resolves_in_place(&"127.0.0.1"));
        assert!(!resolves_in_place(&String::from("example.invalid:80")));
        assert!(!resolves_in_place(&("localhost", 8000)));
        assert!(!resolves_in_place(&("[::1]", 8000)));
    }
}
