//! The in-repo strict server on 127.0.0.1:0, for tests that assert on what it saw.

use std::time::Duration;

use mcptool_server::{RunningServer, Server, ServerConfig, StatsSnapshot};

/// Starts the strict server with `config`.
pub async fn start(config: ServerConfig) -> RunningServer {
    Server::start(config)
        .await
        .expect("start the strict server")
}

/// Starts the strict server with its defaults (SSE responses, GET stream, DELETE allowed).
pub async fn start_default() -> RunningServer {
    start(ServerConfig::default()).await
}

/// Waits until the server's counters satisfy `pred`, failing with the last snapshot.
pub async fn wait_stats(
    server: &RunningServer,
    what: &str,
    pred: impl Fn(&StatsSnapshot) -> bool,
) -> StatsSnapshot {
    match server
        .stats()
        .wait_until(pred, Duration::from_secs(10))
        .await
    {
        Ok(s) => s,
        Err(last) => panic!("server never saw {what}; last stats: {last:#?}"),
    }
}
