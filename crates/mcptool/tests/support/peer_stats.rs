//! What a self-reporting peer saw: `peers/node/server_ts2.mjs` answers `GET /stats` on its own
//! listener with the connections it holds, the sessions it opened and closed, and one record
//! per request to its MCP endpoint.

use std::time::Duration;

use serde::Deserialize;

use super::peers::{PeerProcess, raw_http};

/// The peer's own account, as of one `GET /stats`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerStats {
    /// Client connections open now (the connection that asked for the stats is left out).
    pub open_connections: u64,
    /// Client connections accepted so far.
    pub connections_opened: u64,
    /// Sessions a sessionful transport opened (initialize answered with a session id).
    pub sessions_opened: u64,
    /// Sessions ended (by a `DELETE`).
    pub sessions_closed: u64,
    /// Sessions still open.
    pub live_sessions: u64,
    /// Every request to the MCP endpoint, in arrival order.
    pub requests: Vec<SeenRequest>,
}

/// One request as the peer saw it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeenRequest {
    /// `POST`, `GET` or `DELETE`.
    pub http_method: String,
    /// The JSON-RPC method of the body, when it had one.
    pub rpc_method: Option<String>,
    /// The `MCP-Protocol-Version` header.
    pub protocol_version_header: Option<String>,
    /// The `Mcp-Method` header (2026-07-28).
    pub mcp_method_header: Option<String>,
    /// The `Mcp-Session-Id` header.
    pub session_id: Option<String>,
    /// The HTTP status the peer answered with.
    pub status: Option<u16>,
}

impl PeerStats {
    /// The JSON-RPC methods of the POSTs, in order.
    pub fn rpc_methods(&self) -> Vec<&str> {
        self.requests
            .iter()
            .filter(|r| r.http_method == "POST")
            .filter_map(|r| r.rpc_method.as_deref())
            .collect()
    }

    /// The requests with this HTTP method.
    pub fn with_http_method<'a>(
        &'a self,
        method: &'a str,
    ) -> impl Iterator<Item = &'a SeenRequest> {
        self.requests
            .iter()
            .filter(move |r| r.http_method == method)
    }
}

/// Fetches the peer's stats.
pub async fn fetch(peer: &PeerProcess) -> PeerStats {
    let url = format!("http://127.0.0.1:{}/stats", peer.port());
    let body = raw_http()
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("GET /stats")
        .bytes()
        .await
        .expect("stats body");
    serde_json::from_slice(&body).expect("stats JSON")
}

/// Polls the stats until `done` holds (or `limit` passes, then panics with the last stats).
pub async fn wait_for(
    peer: &PeerProcess,
    what: &str,
    limit: Duration,
    done: impl Fn(&PeerStats) -> bool,
) -> PeerStats {
    let start = std::time::Instant::now();
    loop {
        let stats = fetch(peer).await;
        if done(&stats) {
            return stats;
        }
        assert!(
            start.elapsed() < limit,
            "the peer did not reach `{what}` within {limit:?}: {stats:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
