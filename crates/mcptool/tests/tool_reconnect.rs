//! An expired session: one re-initialisation shared by every concurrent caller when the
//! policy allows it, a session-expired error and no new session when it does not.

mod support;

use std::time::Duration;

use mcptool::{McpStreamableHttpTool, ProtocolEra, ReconnectPolicy};
use mcptool_server::{DeadSessionStatus, Faults, RunningServer, ServerConfig};
use serde_json::json;
use support::server::start;
use support::within;

async fn server_with(status: DeadSessionStatus) -> RunningServer {
    start(ServerConfig::default().faults(Faults {
        dead_session_status: status,
        ..Faults::default()
    }))
    .await
}

async fn fifty_callers_share_one_reinitialisation(status: DeadSessionStatus) {
    let server = server_with(status).await;
    let tool = McpStreamableHttpTool::builder("demo", server.url())
        .protocol_era(ProtocolEra::Session)
        .reconnect_policy(ReconnectPolicy::Reinitialize)
        .build()
        .expect("build");
    tool.connect().await.expect("connect");
    let old = tool.session_id().expect("session").as_str().to_owned();
    assert!(server.expire_session(&old));
    let calls: Vec<_> = (0..50)
        .map(|i| {
            let tool = tool.clone();
            tokio::spawn(async move {
                tool.invoke("echo", json!({"message": format!("m{i}")}))
                    .await
                    .map(|out| out.text())
            })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        let text = call
            .await
            .expect("task")
            .unwrap_or_else(|e| panic!("call {i}: {e:?}"));
        assert_eq!(text, format!("m{i}"));
    }
    let new = tool.session_id().expect("session").as_str().to_owned();
    assert_ne!(old, new);
    let s = server.stats().snapshot();
    assert_eq!(s.methods.get("initialize"), Some(&2), "{s:#?}");
    assert_eq!(s.sessions_opened, 2);
    assert!(tool.is_connected());
    tool.close().await.expect("close");
    server.shutdown().await;
}

#[tokio::test]
async fn expired_session_404_fifty_callers_one_reinitialisation() {
    within(
        Duration::from_secs(60),
        fifty_callers_share_one_reinitialisation(DeadSessionStatus::NotFound),
    )
    .await;
}

#[tokio::test]
async fn expired_session_400_variant_fifty_callers_one_reinitialisation() {
    within(
        Duration::from_secs(60),
        fifty_callers_share_one_reinitialisation(DeadSessionStatus::BadRequest),
    )
    .await;
}

#[tokio::test]
async fn strict_mode_reports_the_expiry_and_opens_no_new_session() {
    within(Duration::from_secs(30), async {
        let server = server_with(DeadSessionStatus::NotFound).await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .reconnect_policy(ReconnectPolicy::Fail)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        let id = tool.session_id().expect("session").as_str().to_owned();
        assert!(server.expire_session(&id));
        let err = tool
            .invoke("echo", json!({"message": "x"}))
            .await
            .expect_err("expired");
        assert!(err.is_session_expired(), "{err:?}");
        assert!(!tool.is_connected());
        let s = server.stats().snapshot();
        assert_eq!(s.sessions_opened, 1);
        assert_eq!(s.methods.get("initialize"), Some(&1));
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}
