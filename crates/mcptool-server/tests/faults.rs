//! Fault knobs: per-request header (only when enabled) and global settings.

mod support;

use std::time::{Duration, Instant};

use mcptool_server::{Faults, ResponseMode, ServerConfig};
use serde_json::json;
use support::{Reply, TestServer, request, run};

fn enabled() -> Faults {
    Faults {
        enabled: true,
        ..Faults::default()
    }
}

#[tokio::test]
async fn fault_header_is_ignored_unless_enabled() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let ping = request(2, "ping", json!({}));
        let response = t
            .post_builder(Some(&s), &ping)
            .header("mcptool-fault", "status=500")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn status_delay_and_expire_from_the_header() {
    run(async {
        let t = TestServer::start(ServerConfig::default().faults(enabled())).await;
        let s = t.session().await;
        let ping = request(2, "ping", json!({}));
        let response = t
            .post_builder(Some(&s), &ping)
            .header("mcptool-fault", "status=500")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let started = Instant::now();
        let response = t
            .post_builder(Some(&s), &ping)
            .header("mcptool-fault", "delay-ms=150")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(started.elapsed() >= Duration::from_millis(150));
        let response = t
            .post_builder(Some(&s), &ping)
            .header("mcptool-fault", "expire")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(t.post(Some(&s), &ping).await.status, 404);
        assert_eq!(t.snapshot().sessions_expired, 1);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn close_drops_the_connection_mid_response() {
    run(async {
        for mode in [ResponseMode::Sse, ResponseMode::Json] {
            let t = TestServer::start(
                ServerConfig::default()
                    .faults(enabled())
                    .response_mode(mode),
            )
            .await;
            let s = t.session().await;
            let call = request(
                2,
                "tools/call",
                json!({"name": "big", "arguments": {"bytes": 100}}),
            );
            let response = t
                .post_builder(Some(&s), &call)
                .header("mcptool-fault", "close")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert!(
                response.text().await.is_err(),
                "{mode:?}: the body must not complete"
            );
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn global_faults_apply_to_every_request() {
    run(async {
        let faults = Faults { cut_sse_after_events: Some(1), ..Faults::default() };
        let t = TestServer::start(ServerConfig::default().faults(faults)).await;
        let params = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
        let reply = t.post(None, &request(1, "initialize", params)).await;
        assert_eq!(reply.events().len(), 1, "only the priming event: {}", reply.body);
        t.finish().await;

        let faults = Faults { status_500: true, ..Faults::default() };
        let t = TestServer::start(ServerConfig::default().faults(faults)).await;
        let params = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
        let reply: Reply = t.post(None, &request(1, "initialize", params)).await;
        assert_eq!(reply.status, 500);
        t.finish().await;
    })
    .await;
}
