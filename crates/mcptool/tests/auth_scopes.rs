//! Which scopes the client asks for (SPEC_NOTES "Authorization" item 8): the challenge's scope,
//! else the resource's `scopes_supported`, else no `scope` at all; `offline_access` only where
//! the authorization server lists it; a 403 `insufficient_scope` answered by a re-authorization
//! with the union of the scopes, in both eras, and at most three times per request.

mod support;

use std::time::Duration;

use mcptool::{AuthFailure, ProtocolEra};
use mcptool_server::{AuthConfig, Era, RunningServer};
use serde_json::json;
use support::oauth_script::{ScriptServer, assert_auth_error, browser, client, strict_server};
use support::within;

const LIMIT: Duration = Duration::from_secs(30);

/// Connects to `url` in the session era and returns the scopes of each authorization request.
async fn asked(auth: &ScriptServer, url: &str) -> Vec<Option<Vec<String>>> {
    let mcp = client(url, ProtocolEra::Session, browser().oauth())
        .connect()
        .await
        .expect("connect");
    mcp.close().await.expect("close");
    auth.authorizations().iter().map(|a| a.scopes()).collect()
}

async fn strict(auth: &ScriptServer, configure: fn(AuthConfig) -> AuthConfig) -> RunningServer {
    strict_server(&auth.issuer(), Era::Both, configure).await
}

#[tokio::test]
async fn the_challenges_scope_is_asked_for() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict(&auth, |a| a.required_scope("mcp:tools")).await;
        assert_eq!(
            asked(&auth, &server.url()).await,
            [Some(vec!["mcp:tools".to_owned()])]
        );
        let code = &auth.token_requests()[0];
        assert_eq!(
            code.form("scope"),
            None,
            "the code carries the scope already"
        );
    })
    .await;
}

#[tokio::test]
async fn without_a_challenge_scope_the_resources_scopes_supported_are_asked_for() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict(&auth, |a| a.scopes_supported(["mcp:read", "mcp:write"])).await;
        let scopes = vec!["mcp:read".to_owned(), "mcp:write".to_owned()];
        assert_eq!(asked(&auth, &server.url()).await, [Some(scopes)]);
    })
    .await;
}

#[tokio::test]
async fn with_neither_no_scope_parameter_is_sent() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let rs = ScriptServer::resource_server(&auth.issuer()).await;
        assert!(rs.script(|s| s.prm.get("scopes_supported").is_none()));
        assert_eq!(asked(&auth, &rs.mcp_url()).await, [None]);
        let authorize = &auth.authorizations()[0];
        assert!(!authorize.query.contains("scope="), "{}", authorize.query);
    })
    .await;
}

#[tokio::test]
async fn offline_access_is_added_where_the_authorization_server_lists_it() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.as_metadata["scopes_supported"] = json!(["openid", "offline_access"]));
        let server = strict(&auth, |a| a.required_scope("mcp:tools")).await;
        let scopes = vec!["mcp:tools".to_owned(), "offline_access".to_owned()];
        assert_eq!(asked(&auth, &server.url()).await, [Some(scopes)]);
    })
    .await;
}

#[tokio::test]
async fn offline_access_is_left_out_where_the_authorization_server_does_not_list_it() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.as_metadata["scopes_supported"] = json!(["mcp:tools"]));
        let server = strict(&auth, |a| {
            a.scopes_supported(["mcp:tools", "offline_access"])
        })
        .await;
        assert_eq!(
            asked(&auth, &server.url()).await,
            [Some(vec!["mcp:tools".to_owned()])]
        );
    })
    .await;
}

#[tokio::test]
async fn insufficient_scope_re_authorizes_with_the_union_of_the_scopes() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let rs = ScriptServer::resource_server(&auth.issuer()).await;
        let origin = rs.origin();
        rs.script(|s| {
            s.challenge = Some(format!(
                "Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\", \
                 scope=\"mcp:tools\""
            ));
            s.forbid_scope = Some("mcp:admin".into());
        });
        let scopes = asked(&auth, &rs.mcp_url()).await;
        let union = vec!["mcp:tools".to_owned(), "mcp:admin".to_owned()];
        assert_eq!(scopes, [Some(vec!["mcp:tools".to_owned()]), Some(union)]);
        assert_eq!(rs.rs_refusals(), 1, "one 403, then the new token passes");
        let forbidden = auth.issued()[0].access_token.clone();
        let last = rs.mcp_requests().last().expect("requests").bearer();
        assert_ne!(last, Some(forbidden), "the new token replaces the old");
    })
    .await;
}

/// A tool that needs `mcp:admin` on top of `mcp:tools`, in `era`.
async fn step_up_on_a_tool_call(era: ProtocolEra) {
    let auth = ScriptServer::auth_server().await;
    let server = strict_server(&auth.issuer(), Era::Both, |a| {
        a.required_scope("mcp:tools").tool_scope("add", "mcp:admin")
    })
    .await;
    let mcp = client(&server.url(), era, browser().oauth())
        .connect()
        .await
        .expect("connect");
    let sum = mcp
        .call_tool("add", json!({"a": 2, "b": 3}))
        .await
        .expect("add after step-up");
    assert_eq!(sum.structured_content.expect("structured")["sum"], 5.0);
    mcp.close().await.expect("close");
    let scopes: Vec<_> = auth.authorizations().iter().map(|a| a.scopes()).collect();
    let union = vec!["mcp:tools".to_owned(), "mcp:admin".to_owned()];
    assert_eq!(scopes, [Some(vec!["mcp:tools".to_owned()]), Some(union)]);
    let snap = server.stats().snapshot();
    assert_eq!(
        (snap.auth_insufficient_scope, snap.auth_distinct_tokens),
        (1, 2)
    );
}

#[tokio::test]
async fn a_tool_call_steps_up_in_the_session_era() {
    within(LIMIT, step_up_on_a_tool_call(ProtocolEra::Session)).await;
}

#[tokio::test]
async fn a_tool_call_steps_up_in_the_stateless_era() {
    within(LIMIT, step_up_on_a_tool_call(ProtocolEra::Stateless)).await;
}

#[tokio::test]
async fn a_server_that_keeps_asking_for_scope_is_refused_after_three_re_authorizations() {
    within(LIMIT, async {
        for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
            let auth = ScriptServer::auth_server().await;
            auth.script(|s| s.withhold_scopes = vec!["mcp:admin".into()]);
            let server = strict_server(&auth.issuer(), Era::Both, |a| {
                a.tool_scope("add", "mcp:admin")
            })
            .await;
            let mcp = client(&server.url(), era, browser().oauth())
                .connect()
                .await
                .expect("connect");
            let before = auth.authorizations().len();
            let err = mcp
                .call_tool("add", json!({"a": 1, "b": 1}))
                .await
                .expect_err("refused");
            assert_auth_error(&err, AuthFailure::Refused, "more scope", &auth.secrets());
            assert_eq!(
                auth.authorizations().len() - before,
                3,
                "{era:?}: three re-authorizations"
            );
            assert_eq!(server.stats().snapshot().auth_insufficient_scope, 4);
            let echo = mcp.call_tool("echo", json!({"message": "still"})).await;
            assert!(echo.is_ok(), "the client stays usable: {echo:?}");
            mcp.close().await.expect("close");
        }
    })
    .await;
}

#[tokio::test]
async fn configured_scopes_replace_the_challenges_and_the_resources() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict(&auth, |a| a.required_scope("mcp:tools")).await;
        let oauth = browser().oauth().scopes(["mcp:tools", "custom:extra"]);
        let mcp = client(&server.url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect("connect");
        mcp.close().await.expect("close");
        let scopes = auth.authorizations()[0].scopes();
        assert_eq!(
            scopes,
            Some(vec!["mcp:tools".to_owned(), "custom:extra".to_owned()])
        );
    })
    .await;
}

#[tokio::test]
async fn a_machine_client_steps_up_with_the_union_too() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let entry = support::oauth_script::ClientEntry::with("client_secret_basic", Some("m"));
        auth.script(|s| s.clients.insert("machine".into(), entry));
        let server = strict(&auth, |a| {
            a.required_scope("mcp:tools").tool_scope("add", "mcp:admin")
        })
        .await;
        let oauth = mcptool::OAuth::client_credentials("machine").client_secret("m");
        let mcp = client(&server.url(), ProtocolEra::Stateless, oauth)
            .connect()
            .await
            .expect("connect");
        mcp.call_tool("add", json!({"a": 1, "b": 1}))
            .await
            .expect("add after step-up");
        mcp.close().await.expect("close");
        assert_eq!(auth.grants(), ["client_credentials", "client_credentials"]);
        let scopes: Vec<_> = auth.token_requests().iter().map(|t| t.scopes()).collect();
        let union = vec!["mcp:tools".to_owned(), "mcp:admin".to_owned()];
        assert_eq!(scopes, [Some(vec!["mcp:tools".to_owned()]), Some(union)]);
    })
    .await;
}
