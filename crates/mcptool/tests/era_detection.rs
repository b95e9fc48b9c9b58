//! `ProtocolEra::Auto`: one client finds the era of each kind of server by itself — probing with
//! `server/discover`, staying in 2026-07-28 when it answers, falling back to `initialize` on a
//! refusal that carries no 2026-07-28 error, and to HTTP+SSE from there.

mod support;

use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{Client, CloseOutcome, McpStreamableHttpTool, ProtocolEra};
use mcptool_server::{Era, ServerConfig};
use serde_json::json;
use support::peers::{self, Peer, PyMode};
use support::server::{start, wait_stats};
use support::within;

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

#[tokio::test]
async fn real_servers_of_each_era_are_found() {
    within(Duration::from_secs(90), async {
        let cases = [
            (
                Peer::PythonMcp2(PyMode::Sse),
                Some(ProtocolVersion::V2026_07_28),
                false,
            ),
            (Peer::PythonMcp1(PyMode::Sse), None, false),
            (Peer::EverythingStreamable, None, false),
            // HTTP+SSE, reached through initialize's fallback (which offers 2025-11-25).
            (Peer::EverythingSse, None, true),
        ];
        for (peer, expected, legacy) in cases {
            let Some(process) = peers::start(peer).await else {
                return;
            };
            let client = Client::builder(process.url())
                .protocol_era(ProtocolEra::Auto)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", peer.name()));
            let version = client.protocol_version();
            match expected {
                Some(v) => assert_eq!(version, Some(v), "{}", peer.name()),
                None => assert!(
                    version.is_some_and(|v| v != ProtocolVersion::V2026_07_28),
                    "{}: {version:?}",
                    peer.name()
                ),
            }
            assert_eq!(client.is_legacy_transport(), legacy, "{}", peer.name());
            assert!(
                !client.list_tools().await.expect("tools").is_empty(),
                "{}",
                peer.name()
            );
            client.close().await.expect("close");
        }
    })
    .await;
}
