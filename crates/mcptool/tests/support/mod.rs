//! Shared by the integration tests: the in-repo strict server, real peer servers, and small
//! helpers that look at what the process itself holds.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses only part of the support module"
)]

pub mod oauth_script;
pub mod oidc;
pub mod peer_stats;
pub mod peers;
pub mod scripted;
pub mod server;

use std::future::Future;
use std::time::Duration;

/// Runs a test body under a deadline, so that a hang fails the test instead of stalling CI.
pub async fn within<T>(limit: Duration, body: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("test did not finish within {limit:?}"))
}

/// How many file descriptors this process has open (Linux: /proc/self/fd).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// How many TCP sockets this process holds that are connected to `server` (Linux: the
/// socket inodes of /proc/self/fd, looked up in /proc/self/net/tcp and tcp6 by their remote
/// address). The server's own accepted sockets have it as their local address and are not
/// counted.
pub fn client_sockets_to(server: std::net::SocketAddr) -> usize {
    own_sockets(|_, remote, _| remote == server.port())
}

/// Established TCP sockets of this process whose local address is `server`: the connections
/// an in-process server holds.
#[allow(dead_code, reason = "used by some test crates only")]
pub fn server_sockets_at(server: std::net::SocketAddr) -> usize {
    own_sockets(|local, _, state| local == server.port() && state == "01")
}

/// The TCP sockets of this process (its /proc/self/fd inodes in /proc/self/net/tcp and tcp6)
/// for which `keep(local port, remote port, state)` holds.
fn own_sockets(keep: impl Fn(u16, u16, &str) -> bool) -> usize {
    let ours: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read_link(entry.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            let inode = target.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_owned())
        })
        .collect();
    let port = |address: &str| {
        let hex = address.rsplit(':').next().unwrap_or("");
        u16::from_str_radix(hex, 16).unwrap_or(0)
    };
    ["/proc/self/net/tcp", "/proc/self/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| table.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 9
                && ours.contains(fields[9])
                && keep(port(fields[1]), port(fields[2]), fields[3])
        })
        .count()
}

/// Polls `f` until it returns true or `limit` passes; returns the last answer.
pub async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
