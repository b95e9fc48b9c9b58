//! Interop with the TypeScript server SDK 2.x (npm `@modelcontextprotocol/server` 2.4.0),
//! `peers/node/server_ts2.mjs`, in each way the package serves eras:
//!
//! - `createMcpHandler` as it comes ([`TsEra::Both`]): 2026-07-28, plus the session era through
//!   its stateless fallback (a fresh instance per POST, no `Mcp-Session-Id`, GET/DELETE 405);
//! - `legacy: "reject"` ([`TsEra::Modern`]): 2026-07-28 only, `initialize` refused with -32022;
//! - the documented `isLegacyRequest` wiring in front of a sessionful transport
//!   ([`TsEra::Sessions`]): 2026-07-28, plus the session era with real sessions.
//!
//! The automatic client and tool find 2026-07-28 on all three; each era is also pinned where
//! the server serves it. Every test checks the server's own account (`GET /stats`): the methods
//! and headers it saw, the sessions it opened and closed, and that no connection is left open
//! after `close()`, on both sides.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{Client, CloseOutcome, McpStreamableHttpTool, ProtocolEra};
use serde_json::{Value, json};
use support::peer_stats::{self, PeerStats};
use support::peers::{self, Peer, PeerProcess, TsEra};
use support::{client_sockets_to, eventually, within};

const LIMIT: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(5);
const MODERN: &str = "2026-07-28";

async fn ts2(era: TsEra) -> Option<PeerProcess> {
    peers::start(Peer::TypeScriptServer2(era)).await
}

fn addr(peer: &PeerProcess) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, peer.port()))
}

fn connect(peer: &PeerProcess, era: ProtocolEra) -> mcptool::ClientBuilder {
    Client::builder(peer.url()).protocol_era(era)
}

/// What the `era` tool reports: the era the serving instance was built for, and the request's
/// `MCP-Protocol-Version` header.
async fn served_era(client: &Client) -> Value {
    let result = client.call_tool("era", json!({})).await.expect("era");
    let text = result.content[0].as_text().expect("era answers text");
    serde_json::from_str(text).expect("era answers JSON")
}

/// Lists the tools and calls echo and add: the same answers in every era.
async fn lists_and_calls(client: &Client) {
    let tools = client.list_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["echo", "add", "era"]);
    assert_eq!(tools[1].input_schema["required"], json!(["a", "b"]));
    assert!(tools[1].output_schema.is_some(), "{:?}", tools[1]);
    let echoed = client
        .call_tool("echo", json!({"message": "hi ts2"}))
        .await
        .expect("echo");
    assert_eq!(echoed.content[0].as_text(), Some("hi ts2"));
    let sum = client
        .call_tool("add", json!({"a": 40, "b": 2}))
        .await
        .expect("add");
    assert_eq!(sum.structured_content, Some(json!({"sum": 42})));
}

/// After `close()`: this process holds no socket to the peer, and the peer holds none from it.
async fn no_connection_left(peer: &PeerProcess) -> PeerStats {
    let server = addr(peer);
    assert!(
        eventually(SETTLE, || client_sockets_to(server) == 0).await,
        "{} client sockets to the peer remain after close()",
        client_sockets_to(server)
    );
    peer_stats::wait_for(peer, "no open connection", SETTLE, |s| {
        s.open_connections == 0
    })
    .await
}

/// Every POST was a 2026-07-28 request: the version header, `Mcp-Method` equal to the body's
/// method, no session id; no GET or DELETE; and the first request was the `server/discover`
/// probe.
fn assert_all_modern(stats: &PeerStats) {
    assert_eq!(
        stats.rpc_methods().first(),
        Some(&"server/discover"),
        "{stats:#?}"
    );
    assert!(!stats.rpc_methods().contains(&"initialize"), "{stats:#?}");
    for seen in stats.with_http_method("POST") {
        assert_eq!(
            seen.protocol_version_header.as_deref(),
            Some(MODERN),
            "{seen:?}"
        );
        assert_eq!(seen.mcp_method_header, seen.rpc_method, "{seen:?}");
        assert_eq!(seen.session_id, None, "{seen:?}");
        assert_eq!(seen.status, Some(200), "{seen:?}");
    }
    assert_eq!(stats.with_http_method("GET").count(), 0, "{stats:#?}");
    assert_eq!(stats.with_http_method("DELETE").count(), 0, "{stats:#?}");
    assert_eq!(stats.sessions_opened, 0);
}

#[tokio::test]
async fn the_automatic_client_finds_2026_07_28_however_the_server_is_wired() {
    within(LIMIT, async {
        for era in [TsEra::Both, TsEra::Modern, TsEra::Sessions] {
            let Some(mut peer) = ts2(era).await else {
                return;
            };
            let client = connect(&peer, ProtocolEra::Auto)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{era:?}: {e}"));
            assert_eq!(
                client.protocol_version(),
                Some(ProtocolVersion::V2026_07_28),
                "{era:?}"
            );
            assert!(client.session_id().is_none(), "{era:?}");
            lists_and_calls(&client).await;
            assert_eq!(
                served_era(&client).await,
                json!({"era": "modern", "protocolVersionHeader": MODERN}),
                "{era:?}"
            );
            assert_eq!(
                client.close().await.expect("close"),
                CloseOutcome::Stateless
            );
            let stats = no_connection_left(&peer).await;
            assert_all_modern(&stats);
            // One probe, no retry: discover, tools/list, three calls.
            assert_eq!(
                stats.rpc_methods(),
                [
                    "server/discover",
                    "tools/list",
                    "tools/call",
                    "tools/call",
                    "tools/call"
                ],
                "{era:?}"
            );
            peer.assert_alive();
        }
    })
    .await;
}

#[tokio::test]
async fn the_automatic_tool_speaks_2026_07_28_and_close_leaves_no_connection() {
    within(LIMIT, async {
        let Some(mut peer) = ts2(TsEra::Both).await else {
            return;
        };
        let tool = McpStreamableHttpTool::builder("ts2", peer.url())
            .protocol_era(ProtocolEra::Auto)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        let client = tool.client().expect("a connected tool has a client");
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2026_07_28)
        );
        assert!(tool.session_id().is_none());
        let names: Vec<String> = tool
            .functions()
            .iter()
            .map(|f| f.mcp_name.clone())
            .collect();
        assert_eq!(names, ["echo", "add", "era"]);
        let output = tool
            .invoke("echo", json!({"message": "from the tool"}))
            .await
            .expect("invoke");
        assert_eq!(output.text(), "from the tool");
        drop(client);
        assert_eq!(tool.close().await.expect("close"), CloseOutcome::Stateless);
        let stats = no_connection_left(&peer).await;
        assert_all_modern(&stats);
        peer.assert_alive();
    })
    .await;
}

#[tokio::test]
async fn pinned_to_each_era_the_default_handler_serves_both() {
    within(LIMIT, async {
        let Some(mut peer) = ts2(TsEra::Both).await else {
            return;
        };
        // 2026-07-28, pinned: the same as the automatic client found.
        let modern = connect(&peer, ProtocolEra::Stateless)
            .connect()
            .await
            .expect("stateless connect");
        assert_eq!(
            modern.protocol_version(),
            Some(ProtocolVersion::V2026_07_28)
        );
        lists_and_calls(&modern).await;
        assert_eq!(served_era(&modern).await["era"], "modern");
        assert_eq!(
            modern.close().await.expect("close"),
            CloseOutcome::Stateless
        );
        let after_modern = no_connection_left(&peer).await;
        assert_all_modern(&after_modern);
        let modern_requests = after_modern.requests.len();

        // The session era, pinned: the package's stateless fallback answers initialize without
        // a session id, so there is nothing to DELETE.
        let session = connect(&peer, ProtocolEra::Session)
            .connect()
            .await
            .expect("session connect");
        assert_eq!(
            session.protocol_version(),
            Some(ProtocolVersion::V2025_11_25)
        );
        assert!(session.session_id().is_none(), "the fallback is stateless");
        lists_and_calls(&session).await;
        assert_eq!(
            served_era(&session).await,
            json!({"era": "legacy", "protocolVersionHeader": "2025-11-25"})
        );
        assert_eq!(
            session.close().await.expect("close"),
            CloseOutcome::NoSession
        );
        let stats = no_connection_left(&peer).await;
        let legacy = &stats.requests[modern_requests..];
        let methods: Vec<&str> = legacy
            .iter()
            .filter(|r| r.http_method == "POST")
            .filter_map(|r| r.rpc_method.as_deref())
            .collect();
        assert_eq!(
            methods,
            [
                "initialize",
                "notifications/initialized",
                "tools/list",
                "tools/call",
                "tools/call",
                "tools/call"
            ]
        );
        for seen in legacy {
            assert_eq!(seen.session_id, None, "{seen:?}");
            assert_eq!(seen.mcp_method_header, None, "{seen:?}");
        }
        // Only POSTs: without a session id there is no DELETE, and the client did not open a
        // standalone GET stream (the peer would answer 405).
        assert_eq!(legacy.len(), methods.len(), "{legacy:#?}");
        peer.assert_alive();
    })
    .await;
}

#[tokio::test]
async fn a_session_pinned_client_is_refused_by_a_modern_only_server() {
    within(LIMIT, async {
        let Some(mut peer) = ts2(TsEra::Modern).await else {
            return;
        };
        let err = connect(&peer, ProtocolEra::Session)
            .connect()
            .await
            .expect_err("a 2026-07-28-only server has no session era");
        let stats = no_connection_left(&peer).await;
        let initialize = stats
            .requests
            .iter()
            .find(|r| r.rpc_method.as_deref() == Some("initialize"))
            .unwrap_or_else(|| panic!("no initialize reached the peer: {stats:#?}"));
        assert_eq!(initialize.status, Some(400), "{stats:#?}");
        assert!(
            !stats.rpc_methods().contains(&"server/discover"),
            "a pinned client does not probe: {stats:#?}"
        );
        assert_eq!(stats.sessions_opened, 0);
        // The peer refused initialize with -32022 and `supported: ["2026-07-28"]`: a final
        // answer that names what it serves, not a reason to try HTTP+SSE.
        assert_eq!(err.kind(), mcptool::ErrorKind::Protocol, "{err:?}");
        assert!(err.to_string().contains("2026-07-28"), "{err}");
        assert!(
            !stats.requests.iter().any(|r| r.http_method == "GET"),
            "no HTTP+SSE attempt: {stats:#?}"
        );
        peer.assert_alive();
    })
    .await;
}

#[tokio::test]
async fn with_sessions_wired_in_the_session_era_gets_a_session_that_close_deletes() {
    within(LIMIT, async {
        let Some(mut peer) = ts2(TsEra::Sessions).await else {
            return;
        };
        let client = connect(&peer, ProtocolEra::Session)
            .connect()
            .await
            .expect("session connect");
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2025_11_25)
        );
        let session = client
            .session_id()
            .expect("the sessionful transport assigns one")
            .as_str()
            .to_owned();
        lists_and_calls(&client).await;
        assert_eq!(served_era(&client).await["era"], "legacy");
        let live = peer_stats::fetch(&peer).await;
        assert_eq!((live.sessions_opened, live.live_sessions), (1, 1));
        assert_eq!(client.close().await.expect("close"), CloseOutcome::Deleted);
        let stats = no_connection_left(&peer).await;
        assert_eq!(
            (
                stats.sessions_opened,
                stats.sessions_closed,
                stats.live_sessions
            ),
            (1, 1, 0)
        );
        let deletes: Vec<_> = stats.with_http_method("DELETE").collect();
        assert_eq!(deletes.len(), 1, "{stats:#?}");
        assert_eq!(deletes[0].session_id.as_deref(), Some(session.as_str()));
        assert_eq!(deletes[0].status, Some(200));
        // Every request after initialize carried the session.
        for seen in stats.requests.iter().skip(1) {
            assert_eq!(
                seen.session_id.as_deref(),
                Some(session.as_str()),
                "{seen:?}"
            );
        }
        // The session is gone: the peer refuses it now.
        let dead = peers::post_with_session(&peer.url(), &session).await;
        assert_eq!(dead.status().as_u16(), 404);
        peer.assert_alive();
    })
    .await;
}
