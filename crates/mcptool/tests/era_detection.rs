//! `ProtocolEra::Auto`: one client finds the era of each kind of server by itself — probing with
//! `server/discover`, staying in 2026-07-28 when it answers, falling back to `initialize` on a
//! refusal that carries no 2026-07-28 error, and to HTTP+SSE from there.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{Client, CloseOutcome, EraCache, McpStreamableHttpTool, ProtocolEra};
use mcptool_server::{Era, ServerConfig};
use serde_json::json;
use support::peers::{self, Peer, PyMode};
use support::server::{start, wait_stats};
use support::{client_sockets_to, eventually, within};

#[tokio::test]
async fn the_same_automatic_client_finds_each_era_of_the_strict_server() {
    within(Duration::from_secs(30), async {
        for (era, expected) in [
            (Era::Stateless, ProtocolVersion::V2026_07_28),
            (Era::Both, ProtocolVersion::V2026_07_28),
            (Era::Sessions, ProtocolVersion::V2025_11_25),
        ] {
            let server = start(ServerConfig::default().era(era)).await;
            let client = Client::builder(server.url())
                .protocol_era(ProtocolEra::Auto)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{era:?}: {e}"));
            assert_eq!(client.protocol_version(), Some(expected), "{era:?}");
            let echoed = client
                .call_tool("echo", json!({"message": "hi"}))
                .await
                .expect("echo");
            assert_eq!(echoed.content[0].as_text(), Some("hi"));
            let closed = client.close().await.expect("close");
            let snap = wait_stats(&server, "closed", |s| s.open_connections == 0).await;
            match era {
                Era::Sessions => {
                    assert_eq!(closed, CloseOutcome::Deleted);
                    assert_eq!(snap.sessions_opened, 1);
                    assert_eq!(snap.status_counts.get(&400), Some(&1), "the refused probe");
                }
                _ => {
                    assert_eq!(closed, CloseOutcome::Stateless);
                    assert_eq!((snap.sessions_opened, snap.discover_calls), (0, 1));
                }
            }
            server.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_automatic_tool_speaks_the_era_its_server_offers() {
    within(Duration::from_secs(30), async {
        for era in [Era::Stateless, Era::Sessions] {
            let server = start(ServerConfig::default().era(era)).await;
            let tool = McpStreamableHttpTool::builder("demo", server.url())
                .protocol_era(ProtocolEra::Auto)
                .build()
                .expect("build");
            tool.connect().await.expect("connect");
            assert_eq!(
                tool.invoke("echo", json!({"message": "x"}))
                    .await
                    .expect("invoke")
                    .text(),
                "x"
            );
            tool.close().await.expect("close");
            let snap = wait_stats(&server, "closed", |s| {
                s.open_connections == 0 && s.sessions_live == 0
            })
            .await;
            assert_eq!(
                snap.sessions_opened,
                u64::from(era == Era::Sessions),
                "{era:?}"
            );
            server.shutdown().await;
        }
    })
    .await;
}

/// What the automatic client should find on a real server.
struct Found {
    /// `Some(v)`: exactly this version; `None`: a session-era version.
    version: Option<ProtocolVersion>,
    legacy: bool,
    session: bool,
    closed: CloseOutcome,
}

#[tokio::test]
async fn real_servers_of_each_era_are_found() {
    within(Duration::from_secs(90), async {
        let modern = || Found {
            version: Some(ProtocolVersion::V2026_07_28),
            legacy: false,
            session: false,
            closed: CloseOutcome::Stateless,
        };
        // The probe refused without a 2026-07-28 error, then initialize: a session, deleted.
        let session_era = || Found {
            version: None,
            legacy: false,
            session: true,
            closed: CloseOutcome::Deleted,
        };
        let cases = [
            (Peer::PythonMcp2(PyMode::Sse), modern()),
            (Peer::PythonMcp2(PyMode::Json), modern()),
            (Peer::PythonMcp1(PyMode::Sse), session_era()),
            (Peer::EverythingStreamable, session_era()),
            // HTTP+SSE, reached through initialize's fallback (which offers 2025-11-25); its
            // session lives in the endpoint URL, not in Mcp-Session-Id.
            (
                Peer::EverythingSse,
                Found {
                    version: None,
                    legacy: true,
                    session: false,
                    closed: CloseOutcome::NoSession,
                },
            ),
        ];
        for (peer, expected) in cases {
            let Some(mut process) = peers::start(peer).await else {
                return;
            };
            let name = peer.name();
            if expected.version.is_none() && !expected.legacy {
                // Why the fallback is clean: the server refuses the probe the client sends
                // with a plain 4xx, not with a 2026-07-28 error the client would have to obey.
                let (status, body) = refused_probe(&process.url()).await;
                assert!(matches!(status, 400 | 404 | 405), "{name}: {status} {body}");
                for modern_code in ["-32020", "-32021", "-32022"] {
                    assert!(!body.contains(modern_code), "{name}: {body}");
                }
            }
            let client = Client::builder(process.url())
                .protocol_era(ProtocolEra::Auto)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let version = client.protocol_version();
            match expected.version {
                Some(v) => assert_eq!(version, Some(v), "{name}"),
                None => assert!(
                    version.is_some_and(|v| v != ProtocolVersion::V2026_07_28),
                    "{name}: {version:?}"
                ),
            }
            assert_eq!(client.is_legacy_transport(), expected.legacy, "{name}");
            assert_eq!(client.session_id().is_some(), expected.session, "{name}");
            assert!(
                !client.list_tools().await.expect("tools").is_empty(),
                "{name}"
            );
            assert_eq!(
                client.close().await.expect("close"),
                expected.closed,
                "{name}"
            );
            let server = SocketAddr::from((Ipv4Addr::LOCALHOST, process.port()));
            assert!(
                eventually(Duration::from_secs(5), || client_sockets_to(server) == 0).await,
                "{name}: {} sockets left after close()",
                client_sockets_to(server)
            );
            process.assert_alive();
        }
    })
    .await;
}

/// A `server/discover` as a 2026-07-28 client sends it, straight to `url`: the status and body.
async fn refused_probe(url: &str) -> (u16, String) {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let response = peers::raw_http()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "server/discover")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover",
                   "params": {"_meta": meta}})
            .to_string(),
        )
        .send()
        .await
        .expect("raw discover");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// The Python SDK 2.x serves both eras on one endpoint: the automatic client speaks 2026-07-28
/// there, and a client pinned to the session era still gets a session that close() ends (the
/// peer answers 404 for it after), in SSE and in JSON response mode.
#[tokio::test]
async fn the_python_sdk_2_serves_both_eras_on_one_endpoint() {
    within(Duration::from_secs(90), async {
        for mode in [PyMode::Sse, PyMode::Json] {
            let Some(mut process) = peers::start(Peer::PythonMcp2(mode)).await else {
                return;
            };
            let server = SocketAddr::from((Ipv4Addr::LOCALHOST, process.port()));
            for era in [ProtocolEra::Auto, ProtocolEra::Session] {
                let client = Client::builder(process.url())
                    .protocol_era(era)
                    .connect()
                    .await
                    .unwrap_or_else(|e| panic!("{mode:?} {era:?}: {e}"));
                let echoed = client
                    .call_tool("echo", json!({"message": "both"}))
                    .await
                    .expect("echo");
                assert_eq!(echoed.content[0].as_text(), Some("both"));
                let session = client.session_id().map(|s| s.as_str().to_owned());
                let closed = client.close().await.expect("close");
                if era == ProtocolEra::Auto {
                    assert_eq!(
                        client.protocol_version(),
                        Some(ProtocolVersion::V2026_07_28),
                        "{mode:?}"
                    );
                    assert_eq!(session, None, "{mode:?}");
                    assert_eq!(closed, CloseOutcome::Stateless, "{mode:?}");
                } else {
                    assert_eq!(
                        client.protocol_version(),
                        Some(ProtocolVersion::V2025_11_25),
                        "{mode:?}"
                    );
                    let session = session.expect("the session era has a session id");
                    assert_eq!(closed, CloseOutcome::Deleted, "{mode:?}");
                    let dead = peers::post_with_session(&process.url(), &session).await;
                    assert_eq!(dead.status().as_u16(), 404, "{mode:?}");
                }
                assert!(
                    eventually(Duration::from_secs(5), || client_sockets_to(server) == 0).await,
                    "{mode:?} {era:?}: sockets left after close()"
                );
            }
            process.assert_alive();
        }
    })
    .await;
}

/// Connects an automatic client that borrows `cache`, calls `echo` and closes.
async fn cached_lifecycle(url: &str, cache: &EraCache) -> (Option<ProtocolVersion>, CloseOutcome) {
    let client = Client::builder(url)
        .era_cache(cache)
        .connect()
        .await
        .expect("connect");
    let echoed = client
        .call_tool("echo", json!({"message": "hi"}))
        .await
        .expect("echo");
    assert_eq!(echoed.content[0].as_text(), Some("hi"));
    let version = client.protocol_version();
    (version, client.close().await.expect("close"))
}

#[tokio::test]
async fn a_lent_era_cache_lets_only_the_first_client_probe() {
    within(Duration::from_secs(30), async {
        for era in [Era::Stateless, Era::Sessions] {
            let server = start(ServerConfig::default().era(era)).await;
            let cache = EraCache::new();
            for _ in 0..3 {
                cached_lifecycle(&server.url(), &cache).await;
            }
            let snap = wait_stats(&server, "closed", |s| s.open_connections == 0).await;
            let probes = snap.methods.get("server/discover").copied();
            match era {
                // The discover answer is public and fresh for a minute: reused, not re-sent.
                Era::Stateless => assert_eq!((probes, snap.discover_calls), (Some(1), 1)),
                _ => {
                    assert_eq!(probes, Some(1), "one refused probe");
                    assert_eq!(snap.methods.get("initialize"), Some(&3));
                    assert_eq!(snap.sessions_opened, 3);
                }
            }
            // A client of its own probes again: the cache is only where it is lent.
            let own = Client::connect(server.url()).await.expect("connect");
            own.close().await.expect("close");
            let snap = wait_stats(&server, "closed", |s| s.open_connections == 0).await;
            assert_eq!(snap.methods.get("server/discover"), Some(&2), "{era:?}");
            server.shutdown().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_remembered_era_the_server_no_longer_speaks_is_detected_again() {
    within(Duration::from_secs(30), async {
        let cache = EraCache::new();
        // The session era first, remembered; then a stateless-only server on the same address.
        let old = start(ServerConfig::default().era(Era::Sessions)).await;
        let addr: SocketAddr = old.addr();
        let url = old.url();
        assert_eq!(
            cached_lifecycle(&url, &cache).await,
            (Some(ProtocolVersion::V2025_11_25), CloseOutcome::Deleted)
        );
        old.shutdown().await;
        let new = start(ServerConfig::default().era(Era::Stateless).bind(addr)).await;
        assert_eq!(
            cached_lifecycle(&url, &cache).await,
            (Some(ProtocolVersion::V2026_07_28), CloseOutcome::Stateless)
        );
        let snap = wait_stats(&new, "closed", |s| s.open_connections == 0).await;
        assert_eq!(
            snap.methods.get("initialize"),
            Some(&1),
            "the remembered era, refused"
        );
        assert_eq!(snap.discover_calls, 1, "then detection");
        assert_eq!(snap.sessions_opened, 0);
        new.shutdown().await;

        // And back: the stateless era remembered with a fresh discover answer lets a client
        // connect without a request; its first request is refused, and the entry forgotten.
        let old = start(ServerConfig::default().era(Era::Sessions).bind(addr)).await;
        let client = Client::builder(&url)
            .era_cache(&cache)
            .connect()
            .await
            .expect("connect from the cache");
        let refused = client
            .call_tool("echo", json!({"message": "hi"}))
            .await
            .expect_err("a session-era server refuses a stateless call");
        assert_eq!(refused.status(), Some(400), "{refused}");
        client.close().await.expect("close");
        assert_eq!(
            cached_lifecycle(&url, &cache).await,
            (Some(ProtocolVersion::V2025_11_25), CloseOutcome::Deleted),
            "the next client detected again"
        );
        old.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_session_pinned_client_takes_a_modern_refusal_as_final() {
    within(Duration::from_secs(30), async {
        let server = start(ServerConfig::default().era(Era::Stateless)).await;
        let err = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect_err("a stateless-only server refuses initialize");
        assert_eq!(err.kind(), mcptool::ErrorKind::Protocol, "{err:?}");
        assert!(err.to_string().contains("2026-07-28"), "{err}");
        let snap = wait_stats(&server, "closed", |s| s.open_connections == 0).await;
        assert_eq!(snap.methods.get("initialize"), Some(&1));
        assert_eq!(
            snap.status_counts.get(&405),
            None,
            "no HTTP+SSE GET after it"
        );
        server.shutdown().await;
    })
    .await;
}

/// A session-era server without sessions (Python `mcp` 1.x with `stateless_http`): it refuses
/// the probe's version header (400, -32600, no 2026-07-28 error), and the automatic client
/// falls back to `initialize`, speaking the session era with no session id. (A server that
/// answers the probe with 200 and a JSON-RPC error is taken the same way: a unit test of
/// `client/era.rs`.)
#[tokio::test]
async fn a_sessionless_session_era_server_answering_the_probe_with_an_error_is_reached() {
    within(Duration::from_secs(60), async {
        let Some(mut process) = peers::start(Peer::PythonMcp1(PyMode::StatelessHttp)).await else {
            return;
        };
        let url = process.url();
        let (status, body) = refused_probe(&url).await;
        let modern = ["-32020", "-32021", "-32022"];
        assert!(
            !modern.iter().any(|code| body.contains(code)),
            "{status}: {body}"
        );
        let client = Client::builder(&url).connect().await.expect("connect");
        assert!(
            client
                .protocol_version()
                .is_some_and(|v| v != ProtocolVersion::V2026_07_28),
            "{:?}",
            client.protocol_version()
        );
        assert!(client.session_id().is_none(), "no sessions on this server");
        let echoed = client
            .call_tool("echo", json!({"message": "hi"}))
            .await
            .expect("echo");
        assert_eq!(echoed.content[0].as_text(), Some("hi"));
        assert_eq!(
            client.close().await.expect("close"),
            CloseOutcome::NoSession
        );
        let addr: SocketAddr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .expect("peer address");
        assert!(
            eventually(Duration::from_secs(5), || client_sockets_to(addr) == 0).await,
            "sockets left open"
        );
        process.assert_alive();
    })
    .await;
}

#[tokio::test]
async fn a_failed_open_may_be_tried_again_and_a_second_open_is_refused() {
    within(Duration::from_secs(30), async {
        // A free port nobody listens on yet.
        let addr = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let client = Client::builder(format!("http://{addr}/mcp"))
            .build()
            .expect("build");
        let refused = client.open().await.expect_err("nobody listens");
        assert!(refused.is_connect(), "{refused}");
        let server = start(ServerConfig::default().bind(addr)).await;
        client.open().await.expect("the second try opens");
        assert!(client.is_connected());
        let again = client.open().await.expect_err("a client opens once");
        assert_eq!(again.kind(), mcptool::ErrorKind::Config, "{again}");
        client.close().await.expect("close");
        let snap = wait_stats(&server, "closed", |s| s.open_connections == 0).await;
        assert_eq!(snap.discover_calls, 1, "one open reached the server");
        server.shutdown().await;
    })
    .await;
}
