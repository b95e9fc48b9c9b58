//! Session lifecycle rules: creation, negotiation, missing/unknown/terminated ids, DELETE, expiry.

mod support;

use std::time::Duration;

use mcptool_server::{DeadSessionStatus, Faults, Server, ServerConfig};
use serde_json::json;
use support::{TestServer, request, run};

#[tokio::test]
async fn initialize_creates_a_visible_ascii_session_id_and_negotiates() {
    run(async {
        let t = TestServer::default().await;
        let s = t.initialize("2025-06-18").await;
        assert_eq!(s.version, "2025-06-18");
        assert!(
            s.id.len() >= 16 && s.id.bytes().all(|b| (0x21..=0x7e).contains(&b)),
            "{}",
            s.id
        );
        let unknown = t.initialize("2099-01-01").await;
        assert_eq!(
            unknown.version, "2025-11-25",
            "an unsupported request gets our latest"
        );
        assert_ne!(s.id, unknown.id);
        let snap = t.snapshot();
        assert_eq!(snap.sessions_opened, 2);
        assert_eq!(snap.sessions_live, 2);
        assert_eq!(snap.session_ids, vec![s.id.clone(), unknown.id.clone()]);
        assert_eq!(snap.methods.get("notifications/initialized"), Some(&2));
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn request_without_session_id_is_400() {
    run(async {
        let t = TestServer::default().await;
        let reply = t.post(None, &request(1, "tools/list", json!({}))).await;
        assert_eq!(reply.status, 400);
        assert_eq!(t.snapshot().status_counts.get(&400), Some(&1));
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_session_id_is_404() {
    run(async {
        let t = TestServer::default().await;
        let reply = t
            .post_builder(None, &request(1, "ping", json!({})))
            .header("mcp-session-id", "no-such-session")
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 404);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn delete_terminates_and_reuse_is_404() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        assert_eq!(
            t.post(Some(&s), &request(2, "ping", json!({})))
                .await
                .status,
            200
        );
        let deleted = t.delete_builder(&s).send().await.unwrap();
        assert_eq!(deleted.status(), 200);
        let reply = t.post(Some(&s), &request(3, "ping", json!({}))).await;
        assert_eq!(reply.status, 404);
        assert_eq!(reply.json()["error"]["code"], -32001);
        let get = t.get_builder(&s).send().await.unwrap();
        assert_eq!(get.status(), 404);
        let again = t.delete_builder(&s).send().await.unwrap();
        assert_eq!(again.status(), 404);
        let snap = t.snapshot();
        assert_eq!(
            (snap.sessions_deleted, snap.sessions_live, snap.deletes),
            (1, 0, 2)
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn dead_session_can_answer_400_like_typescript_servers() {
    run(async {
        let faults = Faults {
            dead_session_status: DeadSessionStatus::BadRequest,
            ..Faults::default()
        };
        let t = TestServer::start(ServerConfig::default().faults(faults)).await;
        let s = t.session().await;
        assert!(t.server().expire_session(&s.id));
        let reply = t.post(Some(&s), &request(2, "ping", json!({}))).await;
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.json()["error"],
            json!({"code": -32000, "message": "Bad Request: No valid session ID provided"})
        );
        assert_eq!(t.snapshot().sessions_expired, 1);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn delete_can_be_refused_with_405_and_the_session_stays() {
    run(async {
        let t = TestServer::start(ServerConfig::default().allow_delete(false)).await;
        let s = t.session().await;
        let reply = t.delete_builder(&s).send().await.unwrap();
        assert_eq!(reply.status(), 405);
        assert!(
            !reply.headers()["allow"]
                .to_str()
                .unwrap()
                .contains("DELETE")
        );
        assert_eq!(
            t.post(Some(&s), &request(2, "ping", json!({})))
                .await
                .status,
            200
        );
        assert_eq!(t.snapshot().sessions_deleted, 0);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn delete_status_fault_and_terminated_sessions_that_keep_working() {
    run(async {
        let faults = Faults {
            delete_status: Some(503),
            ..Faults::default()
        };
        let t = TestServer::start(ServerConfig::default().faults(faults)).await;
        let s = t.session().await;
        assert_eq!(t.delete_builder(&s).send().await.unwrap().status(), 503);
        assert_eq!(
            t.post(Some(&s), &request(2, "ping", json!({})))
                .await
                .status,
            200
        );
        t.finish().await;

        let faults = Faults {
            accept_terminated_sessions: true,
            ..Faults::default()
        };
        let t = TestServer::start(ServerConfig::default().faults(faults)).await;
        let s = t.session().await;
        assert_eq!(t.delete_builder(&s).send().await.unwrap().status(), 200);
        assert_eq!(
            t.post(Some(&s), &request(2, "ping", json!({})))
                .await
                .status,
            200
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn unsupported_protocol_version_header_is_400_listing_supported() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let reply = t
            .post_builder(None, &request(2, "ping", json!({})))
            .header("mcp-session-id", &s.id)
            .header("mcp-protocol-version", "1999-01-01")
            .send()
            .await
            .unwrap();
        let reply = support::Reply::read(reply).await;
        assert_eq!(reply.status, 400);
        let supported = &reply.json()["error"]["data"]["supported"];
        assert_eq!(
            supported,
            &json!(["2025-03-26", "2025-06-18", "2025-11-25"])
        );
        assert!(reply.body.contains("2025-11-25"));
        // A supported version that differs from the negotiated one is refused too.
        let reply = t
            .post_builder(None, &request(3, "ping", json!({})))
            .header("mcp-session-id", &s.id)
            .header("mcp-protocol-version", "2025-03-26")
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn missing_protocol_version_header_is_accepted_and_counted() {
    run(async {
        let t = TestServer::default().await;
        let s = t.initialize("2025-06-18").await;
        let reply = t
            .http
            .post(&t.url)
            .header("content-type", "application/json")
            .header("accept", support::ACCEPT_BOTH)
            .header("mcp-session-id", &s.id)
            .body(request(2, "ping", json!({})).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        assert_eq!(t.snapshot().requests_missing_protocol_version, 1);
        let records = t.stats.requests();
        let last = records.last().unwrap();
        assert_eq!(
            (last.http_method.as_str(), last.rpc_method.as_deref()),
            ("POST", Some("ping"))
        );
        assert_eq!(last.protocol_version, None);
        assert_eq!(last.session_id.as_deref(), Some(s.id.as_str()));
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn idle_sessions_expire_to_404() {
    run(async {
        let config = ServerConfig::default().session_idle_timeout(Some(Duration::from_millis(100)));
        let t = TestServer::start(config).await;
        let s = t.session().await;
        t.wait_for("one expired session", |s| {
            s.sessions_expired == 1 && s.sessions_live == 0
        })
        .await;
        assert_eq!(
            t.post(Some(&s), &request(2, "ping", json!({})))
                .await
                .status,
            404
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn restart_forgets_every_session() {
    run(async {
        let t = TestServer::default().await;
        let a = t.session().await;
        let b = t.session().await;
        assert_eq!(t.server().restart_sessions(), 2);
        assert_eq!(
            t.post(Some(&a), &request(2, "ping", json!({})))
                .await
                .status,
            404
        );
        assert_eq!(
            t.post(Some(&b), &request(2, "ping", json!({})))
                .await
                .status,
            404
        );
        assert_eq!(t.server().expire_all_sessions(), 0);
        let snap = t.snapshot();
        assert_eq!(
            (
                snap.sessions_live,
                snap.sessions_expired,
                snap.sessions_deleted
            ),
            (0, 0, 0)
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn session_limit_answers_503() {
    run(async {
        let t = TestServer::start(ServerConfig::default().max_sessions(1)).await;
        let _s = t.session().await;
        let params = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
        assert_eq!(t.post(None, &request(1, "initialize", params)).await.status, 503);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn non_loopback_bind_is_refused_unless_allowed() {
    run(async {
        let config = ServerConfig::default().bind("0.0.0.0:0".parse().unwrap());
        let err = Server::start(config).await.unwrap_err();
        assert!(err.is_non_loopback(), "{err}");
    })
    .await;
}
