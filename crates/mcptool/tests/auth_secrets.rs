//! Where tokens and secrets go (SPEC_NOTES "Authorization" item 10, HOUSE_STYLE "No secrets in
//! output"): the bearer token only in the `Authorization` header of requests to the MCP server —
//! never to the authorization server, its registration endpoint, a metadata URL on another
//! origin, nor in any URL; `Debug`/`Display` of the client, the tool, `OAuth`, the stored tokens
//! and registrations and the errors never show a token or a client secret; and a token that
//! would break a header is refused.

mod support;

use std::sync::Arc;
use std::time::Duration;

use mcptool::{AuthFailure, McpStreamableHttpTool, MemoryTokenStore, ProtocolEra, TokenStore};
use mcptool_server::Era;
use serde_json::json;
use support::oauth_script::{
    ClientEntry, Raw, ScriptServer, assert_auth_error, assert_no_secret, browser, client,
    full_text, strict_server,
};
use support::within;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_bearer_token_goes_to_the_mcp_server_only_and_never_into_a_url() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.expires_in = Some(1));
        let rs = ScriptServer::resource_server(&auth.issuer()).await;
        let docs = ScriptServer::documents().await;
        let prm = rs.script(|s| s.prm.clone());
        docs.script(|s| s.raw.insert("/prm".into(), Raw::json(200, &prm)));
        let elsewhere = docs.url("/prm");
        rs.script(|s| s.challenge = Some(format!("Bearer resource_metadata=\"{elsewhere}\"")));
        let oauth = browser().oauth().refresh_margin(Duration::ZERO);
        let mcp = client(&rs.mcp_url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect("connect");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        mcp.list_tools().await.expect("after a refresh");
        // Refuse everything: the client discovers again while it holds a token.
        rs.script(|s| s.refuse_all = true);
        let err = mcp.list_tools().await.expect_err("refused");
        assert_eq!(err.auth_failure(), Some(AuthFailure::Refused), "{err}");
        drop(mcp);

        let access: Vec<String> = auth.issued().into_iter().map(|i| i.access_token).collect();
        assert!(
            access.len() >= 3,
            "a code, a refresh and a new authorization: {:?}",
            auth.grants()
        );
        assert!(docs.seen().len() >= 2, "the metadata was fetched twice");
        for seen in auth.seen().iter().chain(&docs.seen()) {
            assert_eq!(seen.bearer(), None, "no bearer to {}", seen.path);
            assert_no_secret(&format!("{seen:?}"), &access);
        }
        for seen in docs.seen() {
            assert_no_secret(&format!("{seen:?}"), &auth.secrets());
        }
        for seen in auth.seen().iter().chain(&docs.seen()).chain(&rs.seen()) {
            assert!(!seen.target().contains("access_token"), "{}", seen.target());
            assert_no_secret(&seen.target(), &auth.secrets());
        }
        for seen in rs.mcp_requests() {
            if let Some(bearer) = seen.bearer() {
                assert!(access.contains(&bearer), "only tokens its AS issued");
            }
        }
        assert!(
            rs.paths("GET").iter().all(|p| !p.contains("well-known")),
            "PRM elsewhere"
        );
    })
    .await;
}

#[tokio::test]
async fn debug_and_display_never_show_a_token_or_a_client_secret() {
    within(LIMIT, async {
        const SECRET: &str = "client-s3cret-value";
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| {
            s.clients.insert(
                "conf".into(),
                ClientEntry::with("client_secret_basic", Some(SECRET)),
            )
        });
        let server = strict_server(&auth.issuer(), Era::Both, |a| {
            a.tool_scope("add", "mcp:admin")
        })
        .await;
        auth.script(|s| s.withhold_scopes = vec!["mcp:admin".into()]);
        let store = Arc::new(MemoryTokenStore::new());
        let oauth = browser()
            .oauth()
            .client_id("conf")
            .client_secret(SECRET)
            .token_store(store.clone());
        let mcp = client(&server.url(), ProtocolEra::Session, oauth.clone())
            .connect()
            .await
            .expect("connect");
        let err = mcp
            .call_tool("add", json!({"a": 1, "b": 2}))
            .await
            .expect_err("403 loop");
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .oauth(oauth.clone())
            .build()
            .expect("tool");
        tool.connect().await.expect("the tool uses the lent store");
        let kept = store
            .tokens(&server.url())
            .await
            .expect("store")
            .expect("tokens");
        let mut secrets = auth.secrets();
        secrets.push(SECRET.to_owned());
        assert!(
            kept.refresh_token.is_some()
                && secrets.contains(&kept.access_token.expose().to_owned())
        );
        let shown = [
            format!("{mcp:?}"),
            format!("{tool:?}"),
            format!("{oauth:?}"),
            format!("{kept:?}"),
            format!("{store:?}"),
            format!(
                "{} {}",
                kept.access_token,
                kept.refresh_token.clone().expect("refresh")
            ),
            full_text(&err),
        ];
        for text in &shown {
            assert_no_secret(text, &secrets);
        }
        assert!(shown[3].contains("redacted"), "{}", shown[3]);
        tool.close().await.expect("close");
        mcp.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn a_registrations_secret_does_not_show_either() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.registered_method = Some("client_secret_post".into()));
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let store = Arc::new(MemoryTokenStore::new());
        let oauth = browser().oauth().token_store(store.clone());
        let mcp = client(&server.url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect("connect");
        mcp.close().await.expect("close");
        let registration = store
            .client(&auth.issuer())
            .await
            .expect("store")
            .expect("kept");
        let secret = registration.client_secret.clone().expect("a secret");
        let shown = format!("{registration:?} {secret} {secret:?}");
        assert_no_secret(&shown, &[secret.expose().to_owned()]);
        assert!(
            shown.contains(&registration.client_id),
            "the id is not secret: {shown}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_token_with_a_line_break_is_refused_and_never_sent() {
    within(LIMIT, async {
        for token in ["abc\r\nX-Injected: 1", "abc\ndef", "abc\rdef"] {
            let auth = ScriptServer::auth_server().await;
            auth.script(|s| s.token_patch.insert("access_token".into(), json!(token)));
            let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
            let err = client(&server.url(), ProtocolEra::Session, browser().oauth())
                .connect()
                .await
                .expect_err("an unsendable token");
            assert_auth_error(
                &err,
                AuthFailure::Token,
                "a header cannot carry",
                &[token.to_owned()],
            );
            assert!(!full_text(&err).contains("X-Injected"));
            let snap = server.stats().snapshot();
            assert_eq!(
                (snap.auth_missing, snap.auth_invalid, snap.auth_accepted),
                (1, 0, 0)
            );
            let sent = server.stats().requests();
            assert!(
                sent.iter()
                    .all(|r| r.headers.iter().all(|(k, _)| k != "authorization"))
            );
        }
    })
    .await;
}

#[tokio::test]
async fn every_request_of_a_session_carries_the_bearer_the_post_the_stream_and_the_delete() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .standalone_stream(mcptool::StandaloneStream::Always)
            .connect()
            .await
            .expect("connect");
        mcp.list_tools().await.expect("tools");
        support::server::wait_stats(&server, "the standalone stream", |s| {
            s.get_streams_opened == 1
        })
        .await;
        mcp.close().await.expect("close");
        let bearer = format!("Bearer {}", auth.issued()[0].access_token);
        let header = |r: &mcptool_server::RequestRecord, name: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let authorization = |r: &mcptool_server::RequestRecord| header(r, "authorization");
        // The endpoint's requests: the metadata GETs (JSON, before any token) left out.
        let records: Vec<_> = (server.stats().requests().into_iter())
            .filter(|r| {
                r.http_method != "GET" || header(r, "accept").as_deref() != Some("application/json")
            })
            .collect();
        let first_ok = records
            .iter()
            .position(|r| r.status == 200)
            .expect("a success");
        for record in &records[first_ok..] {
            assert_eq!(
                authorization(record).as_deref(),
                Some(bearer.as_str()),
                "{record:?}"
            );
        }
        let methods: Vec<&str> = records[first_ok..]
            .iter()
            .map(|r| r.http_method.as_str())
            .collect();
        assert!(
            methods.contains(&"GET") && methods.contains(&"DELETE"),
            "{methods:?}"
        );
        assert!(
            records
                .iter()
                .all(|r| r.status != 401 || authorization(r).is_none())
        );
    })
    .await;
}
