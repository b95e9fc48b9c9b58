//! Counting this process's own TCP sockets to the server.
//!
//! Method (Linux): every open socket of ours is a `/proc/self/fd/N` link to `socket:[INODE]`;
//! `/proc/self/net/tcp` and `/proc/self/net/tcp6` list every TCP socket of our network
//! namespace with its remote address and inode. A socket counts when its inode is one of our
//! descriptors and its remote address is the server's. Sockets we closed no longer have a
//! descriptor (a `TIME_WAIT` entry has inode 0), so they do not count. The embedded server's
//! accepted sockets have the server's port as their *local* port, so they do not count either.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How the count was made, for the report.
pub(crate) const METHOD: &str = "/proc/self/fd inodes matched against /proc/self/net/tcp{,6}";

/// Counts our sockets connected to one of `server` addresses; `None` where `/proc` is missing.
pub(crate) fn count_to(server: &[SocketAddr]) -> Option<usize> {
    let inodes = own_socket_inodes()?;
    let mut count = 0;
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        count += text
            .lines()
            .skip(1)
            .filter_map(parse_line)
            .filter(|(remote, inode)| inodes.contains(inode) && matches(server, *remote))
            .count();
    }
    Some(count)
}

/// Polls until no socket of ours to `server` is left, or `within` passes; the last count.
pub(crate) async fn wait_closed(server: &[SocketAddr], within: Duration) -> Option<usize> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let n = count_to(server)?;
        if n == 0 || tokio::time::Instant::now() >= deadline {
            return Some(n);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Polls until at least `n` sockets of ours to `server` are open, or `within` passes; the
/// last count.
pub(crate) async fn wait_open(server: &[SocketAddr], n: usize, within: Duration) -> Option<usize> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let count = count_to(server)?;
        if count >= n || tokio::time::Instant::now() >= deadline {
            return Some(count);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn matches(server: &[SocketAddr], remote: SocketAddr) -> bool {
    server
        .iter()
        .any(|s| s.port() == remote.port() && s.ip().to_canonical() == remote.ip().to_canonical())
}

fn own_socket_inodes() -> Option<HashSet<u64>> {
    let dir = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(
        dir.filter_map(Result::ok)
            .filter_map(|entry| std::fs::read_link(entry.path()).ok())
            .filter_map(|target| {
                let target = target.to_str()?;
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()
            })
            .collect(),
    )
}

/// `sl local rem st tx:rx tr:when retr uid timeout inode ...` → (remote, inode).
fn parse_line(line: &str) -> Option<(SocketAddr, u64)> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let remote = parse_addr(fields.get(2)?)?;
    let inode = fields.get(9)?.parse().ok()?;
    Some((remote, inode))
}

/// `0100007F:1F90` (IPv4) or 32 hex digits `:PORT` (IPv6), words in host byte order.
fn parse_addr(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for chunk in ip.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_proc_net_tcp_addresses() {
        let v4 = parse_addr("0100007F:1F90").expect("v4");
        assert_eq!(v4, "127.0.0.1:8080".parse().expect("addr"));
        let v6 = parse_addr("0000000000000000FFFF00000100007F:0050").expect("v6");
        assert_eq!(
            v6.ip().to_canonical(),
            "127.0.0.1".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(v6.port(), 80);
    }

    #[test]
    fn counts_a_socket_we_hold_and_forgets_it_when_closed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let Some(before) = count_to(&[addr]) else {
            return; // no /proc here
        };
        assert_eq!(before, 0);
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        assert_eq!(count_to(&[addr]), Some(1));
        drop(stream);
        assert_eq!(count_to(&[addr]), Some(0));
    }
}
