//! Cancellation injected at every blocking point of a coroutine using sockets, loopback only
//! (issue 12): a TCP client (`connect` by name through the blocking pool, `write`, `read`, or
//! `writable`/`try_write` and `readable`/`try_read`), a
//! TCP server (`accept`), a UDP echo (`recv_from`, `send_to`). After every run every byte a
//! write reported arrived at the peer in order, every byte read was the peer's, and every
//! connection or datagram the body answered was seen by the peer. Harness:
//! `cancel_support/injection.rs`; scenarios: `inject_scenarios/net.rs`.

mod cancel_support;
mod emulation;
mod inject_scenarios;

use cancel_support::injection::inject;
use inject_scenarios::net::{tcp_client, tcp_client_readiness, tcp_server, udp_echo};

#[test]
fn tcp_client_connect_write_read() {
    inject("TcpStream connect/write/read", || tcp_client(3));
}

#[test]
fn tcp_client_readable_writable_try_read_try_write() {
    inject("TcpStream readable/try_read, writable/try_write", || {
        tcp_client_readiness(3)
    });
}

#[test]
fn tcp_server_accept() {
    inject("TcpListener::accept", || tcp_server(6));
}

#[test]
fn udp_recv_from_send_to() {
    inject("UdpSocket recv_from/send_to", || udp_echo(6));
}
