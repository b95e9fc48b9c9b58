//! Whose tokens are whose (SPEC_NOTES "Authorization" items 5 and 10): two clients or two tools
//! each run their own flow unless a store is lent, credentials and tokens stay with the
//! authorization server that issued them when the resource moves to another, and `close()`
//! leaves no connection to the authorization server open.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mcptool::{AuthFailure, McpStreamableHttpTool, MemoryTokenStore, OAuth, ProtocolEra};
use mcptool_server::Era;
use serde_json::json;
use support::oauth_script::{
    ClientEntry, ScriptServer, assert_auth_error, browser, client, strict_server,
};
use support::{eventually, within};

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn two_clients_each_run_their_own_flow() {
    within(LIMIT, async {
        for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
            let auth = ScriptServer::auth_server().await;
            let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
            let (a, b) = (browser(), browser());
            let first = client(&server.url(), era, a.oauth())
                .connect()
                .await
                .expect("first");
            let second = client(&server.url(), era, b.oauth())
                .connect()
                .await
                .expect("second");
            first.list_tools().await.expect("first lists");
            second.list_tools().await.expect("second lists");
            first.close().await.expect("close");
            second.close().await.expect("close");
            assert_eq!(
                auth.grants(),
                ["authorization_code", "authorization_code"],
                "{era:?}"
            );
            assert_eq!((a.calls(), b.calls()), (1, 1));
            assert_eq!(server.stats().snapshot().auth_distinct_tokens, 2);
        }
    })
    .await;
}

#[tokio::test]
async fn clients_lent_one_store_share_one_flow_and_one_token() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let store = Arc::new(MemoryTokenStore::new());
        let browser = browser();
        for _ in 0..2 {
            let oauth = browser.oauth().token_store(store.clone());
            let mcp = client(&server.url(), ProtocolEra::Session, oauth)
                .connect()
                .await
                .expect("connect");
            mcp.list_tools().await.expect("tools");
            mcp.close().await.expect("close");
        }
        assert_eq!(auth.grants(), ["authorization_code"]);
        assert_eq!(browser.calls(), 1);
        let snap = server.stats().snapshot();
        assert_eq!(
            (snap.auth_distinct_tokens, snap.auth_missing),
            (1, 1),
            "the second sends the kept token at once"
        );
    })
    .await;
}

fn tool(url: &str, oauth: OAuth) -> McpStreamableHttpTool {
    McpStreamableHttpTool::builder("demo", url)
        .oauth(oauth)
        .protocol_era(ProtocolEra::Stateless)
        .build()
        .expect("tool")
}

#[tokio::test]
async fn two_tools_each_run_their_own_flow_unless_lent_one_store() {
    within(LIMIT, async {
        for lent in [false, true] {
            let auth = ScriptServer::auth_server().await;
            let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
            let store = Arc::new(MemoryTokenStore::new());
            let oauth = || match lent {
                true => browser().oauth().token_store(store.clone()),
                false => browser().oauth(),
            };
            let (a, b) = (tool(&server.url(), oauth()), tool(&server.url(), oauth()));
            for t in [&a, &b] {
                t.connect().await.expect("connect");
                t.invoke("echo", json!({"message": "x"}))
                    .await
                    .expect("echo");
            }
            a.close().await.expect("close");
            b.close().await.expect("close");
            let flows = if lent { 1 } else { 2 };
            assert_eq!(auth.token_requests().len(), flows, "lent: {lent}");
            assert_eq!(server.stats().snapshot().auth_distinct_tokens, flows as u64);
        }
    })
    .await;
}

#[tokio::test]
async fn a_tool_reconnecting_keeps_its_own_tokens() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let t = tool(&server.url(), browser().oauth());
        for _ in 0..2 {
            t.connect().await.expect("connect");
            t.invoke("echo", json!({"message": "x"}))
                .await
                .expect("echo");
            t.close().await.expect("close");
        }
        assert_eq!(
            auth.grants(),
            ["authorization_code"],
            "one flow for the tool's sessions"
        );
    })
    .await;
}

#[tokio::test]
async fn after_close_no_connection_to_the_authorization_server_remains() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect");
        assert!(
            auth.open_connections() >= 1,
            "the pool keeps its connection to the AS"
        );
        mcp.close().await.expect("close");
        let closed = eventually(Duration::from_secs(3), || auth.open_connections() == 0).await;
        assert!(
            closed,
            "{} connections to the AS left",
            auth.open_connections()
        );
        let t = tool(&server.url(), browser().oauth());
        t.connect().await.expect("tool connects");
        t.close().await.expect("tool closes");
        let closed = eventually(Duration::from_secs(3), || auth.open_connections() == 0).await;
        assert!(
            closed,
            "{} connections left after the tool",
            auth.open_connections()
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_authorization_server_gets_its_own_registration_and_none_of_the_old_secrets() {
    within(LIMIT, async {
        let (old, new) = (
            ScriptServer::auth_server().await,
            ScriptServer::auth_server().await,
        );
        let rs = ScriptServer::resource_server(&old.issuer()).await;
        let mcp = client(&rs.mcp_url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect through the old one");
        rs.script(|s| {
            s.prm["authorization_servers"] = json!([new.issuer()]);
            s.accept_issuers = vec![new.issuer()];
        });
        mcp.call_tool("echo", json!({"message": "moved"}))
            .await
            .expect("through the new one");
        mcp.close().await.expect("close");
        let old_ids: Vec<String> = old.script(|s| s.clients.keys().cloned().collect());
        assert_eq!(old_ids.len(), 1);
        assert_eq!(new.registrations().len(), 1, "registered again");
        let new_id = new
            .script(|s| s.clients.keys().next().cloned())
            .expect("registered");
        assert_eq!(new.authorizations()[0].param("client_id"), Some(new_id));
        for seen in new.seen() {
            for secret in old_ids.iter().chain(&old.secrets()) {
                assert!(!seen.contains(secret), "the new AS saw {secret}: {seen:?}");
            }
        }
        let last = rs.mcp_requests().last().and_then(|r| r.bearer());
        assert_eq!(last, Some(new.issued()[0].access_token.clone()));
    })
    .await;
}

#[tokio::test]
async fn a_pre_registered_client_bound_to_one_issuer_is_not_sent_to_another() {
    within(LIMIT, async {
        let (home, other) = (
            ScriptServer::auth_server().await,
            ScriptServer::auth_server().await,
        );
        other.script(|s| {
            s.clients.insert(
                "pre".into(),
                ClientEntry::with("client_secret_basic", Some("pre-s3cret")),
            )
        });
        let server = strict_server(&other.issuer(), Era::Both, |a| a).await;
        let oauth = browser()
            .oauth()
            .client_id("pre")
            .client_secret("pre-s3cret")
            .client_issuer(home.issuer());
        let err = client(&server.url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect_err("bound elsewhere");
        assert_auth_error(
            &err,
            AuthFailure::Registration,
            "configure a client",
            &["pre-s3cret".into()],
        );
        assert!(
            other
                .seen()
                .iter()
                .all(|s| !s.contains("pre-s3cret") && s.method == "GET")
        );
        assert!(other.authorizations().is_empty() && home.seen().is_empty());
    })
    .await;
}

#[tokio::test]
async fn concurrent_requests_refused_together_share_one_refresh() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let rs = ScriptServer::resource_server(&auth.issuer()).await;
        let mcp = client(&rs.mcp_url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect");
        let first = auth.issued()[0].access_token.clone();
        rs.script(|s| s.refused_tokens.insert(first));
        let calls = (0..5).map(|_| mcp.list_tools());
        for listed in futures_util::future::join_all(calls).await {
            assert_eq!(listed.expect("tools after the refresh").len(), 1);
        }
        mcp.close().await.expect("close");
        assert_eq!(
            auth.grants(),
            ["authorization_code", "refresh_token"],
            "one refresh for all"
        );
        let second = auth.issued()[1].access_token.clone();
        let sent: HashSet<String> = rs
            .mcp_requests()
            .iter()
            .filter_map(|r| r.bearer())
            .collect();
        assert_eq!(sent.len(), 2);
        assert!(sent.contains(&second));
    })
    .await;
}

#[tokio::test]
async fn a_pre_registered_client_stays_with_the_first_issuer_it_met() {
    within(LIMIT, async {
        let (old, new) = (
            ScriptServer::auth_server().await,
            ScriptServer::auth_server().await,
        );
        for auth in [&old, &new] {
            let entry = ClientEntry::with("client_secret_basic", Some("m-s3cret"));
            auth.script(|s| s.clients.insert("machine".into(), entry));
        }
        let rs = ScriptServer::resource_server(&old.issuer()).await;
        let oauth = OAuth::client_credentials("machine").client_secret("m-s3cret");
        let mcp = client(&rs.mcp_url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect("connect");
        rs.script(|s| {
            s.prm["authorization_servers"] = json!([new.issuer()]);
            s.accept_issuers = vec![new.issuer()];
        });
        let err = mcp.list_tools().await.expect_err("bound to the old issuer");
        assert_auth_error(
            &err,
            AuthFailure::Registration,
            "configure a client",
            &["m-s3cret".into()],
        );
        assert!(
            new.token_requests().is_empty(),
            "the secret went to {:?}",
            new.lines()
        );
        mcp.close().await.expect("close");
    })
    .await;
}
