//! Both eras on one endpoint, and each single-era mode: a session-era client and stateless
//! requests side by side without cross-talk; a sessions-only server that answers modern requests
//! as an old server would; a stateless-only server that refuses `initialize` with its versions;
//! cancellation by closing a 2026-07-28 stream.

mod support;

use std::time::Duration;

use mcptool_server::{Era, ResponseMode, ServerConfig};
use serde_json::{Value, json};
use support::{MODERN, Reply, TestServer, modern_request, next_modern_id, request, run};

fn names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_session_client_and_stateless_requests_share_an_endpoint_without_cross_talk() {
    run(async {
        let t = TestServer::default().await;
        let session = t.session().await;
        let modern_before = t.modern_call("whoami", json!({})).await;
        assert_eq!(
            modern_before["result"]["structuredContent"]["session_id"],
            ""
        );
        let who = t.call_tool(&session, "whoami", json!({})).await;
        assert_eq!(who["structuredContent"]["session_id"], session.id.as_str());
        assert!(
            who.get("resultType").is_none(),
            "session-era results are unchanged"
        );
        // A toggle in the session changes that session's list only.
        t.call_tool(&session, "toggle_tools", json!({})).await;
        let cursor = json!({"cursor": "21"});
        let modern_list = t.modern("tools/list", cursor.clone()).await.response();
        assert!(names(&modern_list).is_empty(), "{modern_list}");
        let body = request(session.next_id(), "tools/list", cursor.clone());
        let session_list = t.post(Some(&session), &body).await.response();
        assert_eq!(names(&session_list), ["extra"]);
        // And a stateless toggle changes the stateless list only.
        t.modern_call("toggle_tools", json!({})).await;
        t.call_tool(&session, "toggle_tools", json!({})).await;
        assert_eq!(
            names(&t.modern("tools/list", cursor.clone()).await.response()),
            ["extra"]
        );
        let body = request(session.next_id(), "tools/list", cursor);
        assert!(names(&t.post(Some(&session), &body).await.response()).is_empty());
        let snap = t.snapshot();
        assert_eq!(
            snap.sessions_opened, 1,
            "stateless requests open no session"
        );
        assert_eq!(snap.stateless_requests, 4);
        assert!(snap.session_era_requests >= 6, "{snap:?}");
        assert!(
            t.stats
                .requests()
                .iter()
                .filter(|r| r.protocol_version.as_deref() == Some(MODERN))
                .all(|r| r.session_id.is_none()),
            "no stateless request was tied to a session"
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_sessions_only_server_answers_modern_requests_as_an_old_server_does() {
    run(async {
        let t = TestServer::start(ServerConfig::default().era(Era::Sessions)).await;
        let reply = t.modern("server/discover", json!({})).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        let code = reply.json()["error"]["code"].as_i64().unwrap_or(0);
        assert!(
            ![-32020, -32021, -32022, -32601].contains(&code),
            "no modern error: {}",
            reply.body
        );
        let get = t
            .http
            .get(&t.url)
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", MODERN)
            .send()
            .await
            .expect("GET");
        assert_eq!(get.status(), 400, "a GET without a session, as before");
        assert_eq!(t.snapshot().stateless_requests, 0);
        // The session era still works.
        let session = t.session().await;
        assert_eq!(
            t.call_tool(&session, "echo", json!({"message": "hi"}))
                .await["content"][0]["text"],
            "hi"
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_stateless_only_server_refuses_initialize_naming_its_versions() {
    run(async {
        let t = TestServer::start(ServerConfig::default().era(Era::Stateless)).await;
        let params = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}});
        let reply = t.post(None, &request(1, "initialize", params)).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        let error = &reply.json()["error"];
        assert_eq!(error["code"], -32022);
        assert_eq!(error["data"]["supported"], json!([MODERN]));
        assert_eq!(error["data"]["requested"], "2025-11-25");
        assert!(error["message"].as_str().unwrap_or("").contains(MODERN));
        assert!(reply.header("mcp-session-id").is_none());
        assert_eq!(t.snapshot().sessions_opened, 0);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn closing_the_response_stream_cancels_the_work_in_both_response_modes() {
    run(async {
        for mode in [ResponseMode::Sse, ResponseMode::Json] {
            let t = TestServer::start(ServerConfig::default().response_mode(mode)).await;
            let body = modern_request(
                next_modern_id(),
                "tools/call",
                json!({"name": "sleep", "arguments": {"ms": 60_000, "steps": 600}, "_meta": {"progressToken": 1}}),
                json!({}),
            );
            let pending = t.modern_builder(&body).timeout(Duration::from_millis(300)).send();
            match mode {
                // The stream's headers arrive at once: read a little, then drop it.
                ResponseMode::Sse => {
                    let mut response = pending.await.expect("stream opens");
                    let _ = tokio::time::timeout(Duration::from_millis(250), response.chunk()).await;
                    drop(response);
                }
                // The JSON answer never comes in time: the client gives up.
                ResponseMode::Json => assert!(pending.await.is_err()),
            }
            let snap = t
                .wait_for("the work cancelled by the closed stream", |s| s.works_cancelled_by_close == 1 && s.live_tasks <= 2)
                .await;
            assert_eq!(snap.cancelled_requests, 0, "no notifications/cancelled in 2026-07-28");
            let status = Reply::read(t.modern_builder(&modern_request(next_modern_id(), "tools/list", json!({}), json!({}))).send().await.expect("POST")).await.status;
            assert_eq!(status, 200, "{mode:?}: the server keeps serving");
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn stateless_bad_input_gets_its_status_and_code() {
    run(async {
        let t = TestServer::default().await;
        let batch = json!([modern_request(1, "tools/list", json!({}), json!({}))]);
        let reply = Reply::read(t.modern_builder(&batch).header("mcp-method", "tools/list").send().await.expect("POST")).await;
        assert_eq!(reply.status, 400, "a batch in the dual-era server is session era: {}", reply.body);
        let stateless = TestServer::start(ServerConfig::default().era(Era::Stateless)).await;
        let reply = Reply::read(stateless.modern_builder(&batch).send().await.expect("POST")).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json()["error"]["code"], -32600);
        let response = json!({"jsonrpc": "2.0", "id": 1, "result": {}});
        let reply = Reply::read(stateless.modern_builder(&response).send().await.expect("POST")).await;
        assert_eq!((reply.status, reply.json()["error"]["code"].clone()), (400, json!(-32600)));
        let cancelled = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}});
        let reply = Reply::read(stateless.modern_builder(&cancelled).send().await.expect("POST")).await;
        assert_eq!(reply.status, 202, "a notification is accepted and ignored");
        let body = modern_request(2, "tools/call", json!({"name": "echo", "arguments": {"message": "x"}}), json!({}));
        let reply = Reply::read(
            stateless
                .post_builder(None, &body)
                .header("mcp-protocol-version", MODERN)
                .header("mcp-method", "tools/call")
                .header("mcp-name", http_value_with_latin1())
                .send()
                .await
                .expect("POST"),
        )
        .await;
        assert_eq!((reply.status, reply.json()["error"]["code"].clone()), (400, json!(-32020)), "{}", reply.body);
        let huge = "x".repeat(5 * 1024 * 1024);
        let big = modern_request(3, "tools/call", json!({"name": "echo", "arguments": {"message": huge}}), json!({}));
        assert_eq!(Reply::read(stateless.modern_builder(&big).send().await.expect("POST")).await.status, 413);
        let ok = stateless.modern_call("echo", json!({"message": "still here"})).await;
        assert_eq!(ok["result"]["content"][0]["text"], "still here");
        stateless.finish().await;
        t.finish().await;
    })
    .await;
}

/// A header value with a byte outside visible ASCII (an obs-text byte).
fn http_value_with_latin1() -> reqwest::header::HeaderValue {
    reqwest::header::HeaderValue::from_bytes(b"ech\xf6").expect("obs-text is a legal header byte")
}
