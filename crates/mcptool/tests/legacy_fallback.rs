//! The legacy HTTP+SSE transport (protocol 2024-11-05), against a real server speaking only
//! that: npm server-everything in `sse` mode. The same isolation guarantee holds: its event
//! stream and connections are closed at `close()`.

mod support;

use std::time::Duration;

use mcptool::{Client, CloseOutcome, LegacyFallback, ProtocolEra};
use serde_json::json;
use support::peers::{self, Peer};
use support::within;

#[tokio::test]
async fn a_legacy_server_is_reached_through_the_fallback_and_closed_cleanly() {
    within(Duration::from_secs(60), async {
        let Some(peer) = peers::start(Peer::EverythingSse).await else {
            return;
        };
        let fds_before = support::open_fds();
        let client = Client::builder(peer.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect via fallback");
        assert!(client.is_legacy_transport());
        assert!(client.session_id().is_none());
        let tools = client.list_tools().await.expect("tools");
        assert!(tools.iter().any(|t| t.name == "echo"), "{tools:?}");
        let echoed = client
            .call_tool("echo", json!({"message": "over http+sse"}))
            .await
            .expect("echo");
        let text = echoed.content[0].as_text().unwrap_or_default();
        assert!(text.contains("over http+sse"), "{text}");
        assert_eq!(
            client.close().await.expect("close"),
            CloseOutcome::NoSession
        );
        let err = client.ping().await.expect_err("closed");
        assert!(err.is_closed());
        assert!(
            support::eventually(Duration::from_secs(5), || support::open_fds() <= fds_before).await,
            "the legacy stream or its pool outlived close(): {} fds, {} before",
            support::open_fds(),
            fds_before
        );
    })
    .await;
}

#[tokio::test]
async fn with_the_fallback_off_a_legacy_server_is_a_clear_error() {
    within(Duration::from_secs(60), async {
        let Some(peer) = peers::start(Peer::EverythingSse).await else {
            return;
        };
        let err = Client::builder(peer.url())
            .protocol_era(ProtocolEra::Session)
            .legacy_fallback(LegacyFallback::Never)
            .connect()
            .await
            .expect_err("no fallback");
        assert!(matches!(err.status(), Some(400 | 404 | 405)), "{err:?}");
    })
    .await;
}
