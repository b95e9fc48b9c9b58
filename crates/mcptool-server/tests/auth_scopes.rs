//! Scopes of a protected server: a tool whose scope the token lacks is refused with 403
//! `insufficient_scope` naming what to ask for, in both eras and before anything runs; the same
//! call with that scope works; and every refusal is counted.

mod support;

use mcptool_server::{AuthConfig, ServerConfig};
use serde_json::{Value, json};
use support::auth::{claims, jwks, rsa1};
use support::{Reply, TestServer, modern_request, next_modern_id, request, run};

const ISSUER: &str = "https://issuer.test";
const NEEDS_MORE: &str = "the token lacks a scope this request needs";

/// `add` needs `mcp:admin`; every other tool needs only a valid token.
async fn protected() -> TestServer {
    let auth = AuthConfig::new(ISSUER)
        .jwks(jwks(&[&rsa1()]))
        .tool_scope("add", "mcp:admin");
    TestServer::start(ServerConfig::default().stats_endpoint(true).auth(auth)).await
}

fn token(t: &TestServer, scope: &str) -> String {
    rsa1().sign(&claims(ISSUER, &t.url, scope))
}

fn add() -> Value {
    json!({"name": "add", "arguments": {"a": 1, "b": 2}})
}

/// The 403 a token with `mcp:tools` gets for `add`.
fn assert_step_up(t: &TestServer, reply: &Reply) {
    assert_eq!(reply.status, 403, "{}", reply.body);
    let expected = format!(
        "Bearer error=\"insufficient_scope\", scope=\"mcp:tools mcp:admin\", resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\", error_description=\"{NEEDS_MORE}\"",
        t.origin()
    );
    assert_eq!(reply.header("www-authenticate"), Some(expected.as_str()));
    assert!(
        !reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream")),
        "refused before a stream started"
    );
}

#[tokio::test]
async fn a_tool_scope_the_token_lacks_is_403_in_the_session_era() {
    run(async {
        let mut t = protected().await;
        t.use_token(Some(&token(&t, "mcp:tools")));
        let session = t.session().await;
        let call = request(session.next_id(), "tools/call", add());
        assert_step_up(&t, &t.post(Some(&session), &call).await);
        // The same token still calls the tools it may call.
        let echo = t
            .call_tool(&session, "echo", json!({"message": "hi"}))
            .await;
        assert_eq!(echo["content"][0]["text"], "hi");
        // Re-authorized with the challenged scopes, the same call works in the same session.
        t.use_token(Some(&token(&t, "mcp:tools mcp:admin")));
        let sum = t.call_tool(&session, "add", json!({"a": 1, "b": 2})).await;
        assert_eq!(sum["structuredContent"]["sum"], 3.0, "{sum}");
        let snap = t.snapshot();
        assert_eq!(snap.auth_insufficient_scope, 1);
        assert_eq!(snap.methods.get("tools/call"), Some(&3));
        assert_eq!(
            snap.session_era_requests, 4,
            "the refused call reached no era"
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_tool_scope_the_token_lacks_is_403_in_2026_07_28() {
    run(async {
        let mut t = protected().await;
        t.use_token(Some(&token(&t, "mcp:tools")));
        assert_step_up(&t, &t.modern("tools/call", add()).await);
        // The body names the tool: an `Mcp-Name` naming another tool does not get it through.
        let body = modern_request(next_modern_id(), "tools/call", add(), json!({}));
        let disguised = t
            .post_builder(None, &body)
            .header("mcp-protocol-version", support::MODERN)
            .header("mcp-method", "tools/call")
            .header("mcp-name", "echo");
        assert_step_up(
            &t,
            &Reply::read(disguised.send().await.expect("POST")).await,
        );
        t.use_token(Some(&token(&t, "mcp:admin mcp:tools")));
        let sum = t.modern_call("add", json!({"a": 1, "b": 2})).await;
        assert_eq!(sum["result"]["structuredContent"]["sum"], 3.0, "{sum}");
        let snap = t.snapshot();
        assert_eq!(snap.auth_insufficient_scope, 2);
        assert_eq!(
            snap.stateless_requests, 1,
            "the refused calls reached no era"
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_batch_is_refused_when_one_of_its_calls_lacks_a_scope() {
    run(async {
        let mut t = protected().await;
        t.use_token(Some(&token(&t, "mcp:tools")));
        let session = t.initialize("2025-03-26").await;
        let echo = json!({"name": "echo", "arguments": {"message": "hi"}});
        let batch = json!([
            request(session.next_id(), "tools/call", echo),
            request(session.next_id(), "tools/call", add()),
        ]);
        assert_step_up(&t, &t.post(Some(&session), &batch).await);
        assert_eq!(t.snapshot().auth_insufficient_scope, 1);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_token_in_the_url_is_refused_even_beside_a_valid_header() {
    run(async {
        let mut t = protected().await;
        let token = token(&t, "mcp:tools");
        let url = format!("{}?access_token={token}", t.url);
        let body = modern_request(next_modern_id(), "server/discover", json!({}), json!({}));
        for with_header in [false, true] {
            t.use_token(with_header.then_some(token.as_str()));
            let post = t.http.post(&url).header("content-type", "application/json");
            let post = post.header("accept", support::ACCEPT_BOTH);
            let reply = Reply::read(post.body(body.to_string()).send().await.expect("POST")).await;
            assert_eq!(reply.status, 400, "{}", reply.body);
            let challenge = reply.header("www-authenticate").expect("challenge");
            assert!(
                challenge.starts_with("Bearer error=\"invalid_request\""),
                "{challenge}"
            );
            assert!(!challenge.contains(&token) && !reply.body.contains(&token));
        }
        let snap = t.snapshot();
        assert_eq!((snap.auth_query_token, snap.auth_accepted), (2, 0));
        assert_eq!(snap.stateless_requests, 0);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn the_stats_count_each_outcome_and_tell_tokens_apart() {
    run(async {
        let mut t = protected().await;
        let (narrow, wide) = (token(&t, "mcp:tools"), token(&t, "mcp:tools mcp:admin"));
        t.modern("server/discover", json!({})).await; // missing
        t.use_token(Some("not.a.token"));
        t.modern("server/discover", json!({})).await; // invalid
        t.use_token(Some(&narrow));
        t.modern("server/discover", json!({})).await; // accepted
        t.modern("tools/call", add()).await; // accepted, insufficient scope
        t.use_token(Some(&wide));
        t.modern("tools/call", add()).await; // accepted
        t.use_token(Some(&narrow));
        t.modern("server/discover", json!({})).await; // accepted, a token seen before
        let query = format!("{}?access_token={narrow}", t.url);
        t.http.get(&query).send().await.expect("GET"); // query token
        t.use_token(None);
        let stats = format!("{}/stats", t.origin());
        let reply = Reply::read(t.http.get(&stats).send().await.expect("GET /stats")).await;
        assert_eq!(reply.status, 200, "/stats is not protected");
        let counted = reply.json();
        let expected = [
            ("auth_missing", 1),
            ("auth_invalid", 1),
            ("auth_insufficient_scope", 1),
            ("auth_accepted", 4),
            ("auth_distinct_tokens", 2),
            ("auth_query_token", 1),
            ("auth_jwks_fetches", 0),
        ];
        for (field, n) in expected {
            assert_eq!(counted[field], n, "{field} in {counted}");
        }
        assert_eq!(t.snapshot().auth_accepted, 4, "the handle counts the same");
        t.finish().await;
    })
    .await;
}
