//! Bad input gets the right 4xx (or JSON-RPC error) and never a panic, hang or leak.

mod support;

use mcptool_server::ServerConfig;
use serde_json::{Value, json};
use support::{ACCEPT_BOTH, Reply, TestServer, request, run};

async fn raw_post(
    t: &TestServer,
    s: &support::Session,
    content_type: &str,
    accept: &str,
    body: String,
) -> Reply {
    let response = t
        .http
        .post(&t.url)
        .header("content-type", content_type)
        .header("accept", accept)
        .header("mcp-session-id", &s.id)
        .header("mcp-protocol-version", &s.version)
        .body(body)
        .send()
        .await
        .unwrap();
    Reply::read(response).await
}

#[tokio::test]
async fn wrong_content_type_is_415_and_wrong_accept_is_406() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let ping = request(2, "ping", json!({})).to_string();
        assert_eq!(
            raw_post(&t, &s, "text/plain", ACCEPT_BOTH, ping.clone())
                .await
                .status,
            415
        );
        assert_eq!(
            raw_post(&t, &s, "application/json", "application/json", ping.clone())
                .await
                .status,
            406
        );
        assert_eq!(
            raw_post(
                &t,
                &s,
                "application/json",
                "text/event-stream",
                ping.clone()
            )
            .await
            .status,
            406
        );
        let ok = raw_post(&t, &s, "application/json; charset=utf-8", ACCEPT_BOTH, ping).await;
        assert_eq!(ok.status, 200);
        let snap = t.snapshot();
        assert_eq!(
            (snap.status_counts.get(&415), snap.status_counts.get(&406)),
            (Some(&1), Some(&2))
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    run(async {
        let t = TestServer::start(ServerConfig::default().max_body_bytes(1024)).await;
        let s = t.session().await;
        let big = request(
            2,
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x".repeat(2000)}}),
        );
        assert_eq!(t.post(Some(&s), &big).await.status, 413);
        // Without a Content-Length (streamed body) the limit holds too.
        let chunks: Vec<Result<String, std::io::Error>> = vec![Ok(big.to_string())];
        let response = t
            .post_builder(Some(&s), &json!(null))
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
        assert_eq!(
            t.post(Some(&s), &request(3, "ping", json!({})))
                .await
                .status,
            200
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn malformed_json_is_400_parse_error_and_invalid_messages_are_400() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let reply = raw_post(
            &t,
            &s,
            "application/json",
            ACCEPT_BOTH,
            "{not json".to_owned(),
        )
        .await;
        assert_eq!(reply.status, 400);
        let body = reply.json();
        assert_eq!(body["error"]["code"], -32700);
        assert_eq!(body["id"], Value::Null);
        for invalid in [
            json!({"id": 1, "method": "ping"}),
            json!(42),
            json!({"jsonrpc": "2.0", "id": [1], "method": "x"}),
        ] {
            let reply = t.post(Some(&s), &invalid).await;
            assert_eq!(reply.status, 400, "{invalid}");
            assert_eq!(reply.json()["error"]["code"], -32600, "{invalid}");
        }
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_method_is_32601() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let reply = t
            .post(Some(&s), &request(2, "no/such/method", json!({})))
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.response()["error"]["code"], -32601);
        assert_eq!(t.snapshot().methods.get("no/such/method"), Some(&1));
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn batches_only_in_2025_03_26() {
    run(async {
        let t = TestServer::default().await;
        let modern = t.session().await;
        let batch = json!([
            request(2, "ping", json!({})),
            request(3, "tools/list", json!({}))
        ]);
        let reply = t.post(Some(&modern), &batch).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json()["error"]["code"], -32600);

        let old = t.initialize("2025-03-26").await;
        let reply = t.post(Some(&old), &batch).await;
        assert_eq!(reply.status, 200);
        let answers = reply.json();
        let ids: Vec<&Value> = answers
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["id"])
            .collect();
        assert_eq!(ids, vec![&json!(2), &json!(3)]);
        let notes = json!([{"jsonrpc": "2.0", "method": "notifications/progress", "params": {}}]);
        assert_eq!(t.post(Some(&old), &notes).await.status, 202);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn foreign_origin_is_403_and_local_origins_pass() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let ping = request(2, "ping", json!({}));
        for (origin, status) in [
            ("http://evil.example", 403),
            ("http://localhost.evil.example", 403),
            ("http://localhost:5173", 200),
            ("http://127.0.0.1", 200),
        ] {
            let response = t
                .post_builder(Some(&s), &ping)
                .header("origin", origin)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{origin}");
        }
        let custom = TestServer::start(
            ServerConfig::default().allowed_origins(vec!["https://app.example".into()]),
        )
        .await;
        let s = custom.session().await;
        let response = custom
            .post_builder(Some(&s), &ping)
            .header("origin", "https://app.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let response = custom
            .post_builder(Some(&s), &ping)
            .header("origin", "http://localhost")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        custom.finish().await;
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn other_methods_are_405_and_other_paths_404() {
    run(async {
        let t = TestServer::default().await;
        let response = t.http.put(&t.url).send().await.unwrap();
        assert_eq!(response.status(), 405);
        assert!(
            response.headers()["allow"]
                .to_str()
                .unwrap()
                .contains("POST")
        );
        let other = t.url.replace("/mcp", "/elsewhere");
        assert_eq!(t.http.get(&other).send().await.unwrap().status(), 404);
        let stats = t.url.replace("/mcp", "/stats");
        assert_eq!(
            t.http.get(&stats).send().await.unwrap().status(),
            404,
            "stats endpoint is off by default"
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_flood_on_one_session_stays_bounded() {
    run(async {
        let t = TestServer::start(ServerConfig::default().stats_endpoint(true)).await;
        let s = t.session().await;
        let get = t.get_builder(&s).send().await.unwrap();
        assert_eq!(get.status(), 200);
        let pings: Vec<Value> = (0..300u64)
            .map(|i| request(1000 + i, "ping", json!({})))
            .collect();
        let floods = pings.iter().map(|ping| t.post(Some(&s), ping));
        for reply in futures_util::future::join_all(floods).await {
            assert_eq!(reply.status, 200);
        }
        for _ in 0..50 {
            assert_eq!(t.get_builder(&s).send().await.unwrap().status(), 409);
        }
        let snap = t.snapshot();
        assert_eq!((snap.sessions_live, snap.live_get_streams), (1, 1));
        assert_eq!(snap.live_tasks, 2, "only the server and the sweeper remain");
        let remote = Reply::read(
            t.http
                .get(t.url.replace("/mcp", "/stats"))
                .send()
                .await
                .unwrap(),
        )
        .await
        .json();
        assert_eq!(remote["sessions_live"], 1);
        assert_eq!(remote["status_counts"]["409"], 50);
        drop(get);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn huge_headers_are_recorded_truncated() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let long = "v".repeat(10_000);
        let reply = t
            .post_builder(Some(&s), &request(2, "ping", json!({})))
            .header("x-long", &long)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        let records = t.stats.requests();
        let (_, value) = records
            .last()
            .unwrap()
            .headers
            .iter()
            .find(|(k, _)| k == "x-long")
            .unwrap()
            .clone();
        assert_eq!(value.len(), 1024);
        t.finish().await;
    })
    .await;
}
