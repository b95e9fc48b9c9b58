//! Shared by the integration tests: the in-repo strict server, real peer servers, and small
//! helpers that look at what the process itself holds.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test file uses only part of the support module"
)]

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
