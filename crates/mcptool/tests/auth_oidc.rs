//! End to end against a real authorization server (oidc-provider, `peers/auth/oidc.mjs`) and
//! the strict server protecting itself with its tokens (`ServerConfig::auth`): the first call
//! meets a 401 and the client goes all the way — discovery, registration, consent (driven by
//! the browser stand-in), token — in both protocol eras; then refresh, step-up, client
//! credentials, isolation.

mod support;

use std::sync::Arc;
use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{
    Client, ErrorKind, LoopbackBrowser, McpStreamableHttpTool, MemoryTokenStore, OAuth, PrivateKey,
    ProtocolEra,
};
use mcptool_server::{AuthConfig, RunningServer, ServerConfig};
use serde_json::json;
use support::oidc::{self, AuthOptions, AuthServer};
use support::server::{start, wait_stats};
use support::within;

/// The consent, as a user at a browser would give it: the stand-in follows the URL, posts the
/// consent form and delivers the redirect to the loopback listener.
fn browser() -> OAuth {
    OAuth::authorization_code(
        LoopbackBrowser::new()
            .browser(oidc::browser_sh().display().to_string())
            .timeout(Duration::from_secs(30)),
    )
}

async fn protected(
    auth: &AuthServer,
    configure: impl FnOnce(AuthConfig) -> AuthConfig,
) -> RunningServer {
    start(ServerConfig::default().auth(configure(AuthConfig::new(auth.issuer())))).await
}

async fn first_call_runs_the_whole_flow(era: ProtocolEra, expected: ProtocolVersion) {
    let Some(auth) = oidc::start_default().await else {
        return;
    };
    let server = protected(&auth, |a| a).await;
    within(Duration::from_secs(60), async {
        let client = Client::builder(server.url())
            .protocol_era(era)
            .oauth(browser())
            .connect()
            .await
            .expect("connect through the authorization flow");
        assert_eq!(client.protocol_version(), Some(expected));
        let echoed = client
            .call_tool("echo", json!({"message": "in"}))
            .await
            .expect("echo with the token");
        assert_eq!(echoed.content[0].as_text(), Some("in"));
        client.close().await.expect("close");
    })
    .await;
    let snap = server.stats().snapshot();
    assert!(
        snap.auth_missing >= 1,
        "the first request went without a token: {snap:?}"
    );
    assert!(snap.auth_accepted >= 2, "{snap:?}");
    assert_eq!(snap.auth_distinct_tokens, 1, "one token for the whole run");
    let stats = auth.stats().await;
    assert_eq!(stats.registrations.count, 1, "{stats:?}");
    assert_eq!(stats.consents, 1);
    assert_eq!(stats.token_requests_of("authorization_code"), 1);
    let resource = server.url();
    assert!(
        stats
            .resources_at("authorization")
            .contains(&resource.as_str())
            && stats.resources_at("token").contains(&resource.as_str()),
        "resource {resource} on both requests: {:?}",
        stats.resources
    );
}

#[tokio::test]
async fn first_call_runs_the_whole_flow_in_the_session_era() {
    first_call_runs_the_whole_flow(ProtocolEra::Session, ProtocolVersion::V2025_11_25).await;
}

#[tokio::test]
async fn first_call_runs_the_whole_flow_in_2026_07_28() {
    first_call_runs_the_whole_flow(ProtocolEra::Stateless, ProtocolVersion::V2026_07_28).await;
}

#[tokio::test]
async fn the_automatic_era_finds_a_protected_server_through_its_401() {
    first_call_runs_the_whole_flow(ProtocolEra::Auto, ProtocolVersion::V2026_07_28).await;
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_kept() {
    let Some(auth) = oidc::start(AuthOptions::default().access_ttl(2)).await else {
        return;
    };
    let server = protected(&auth, |a| a.leeway(Duration::ZERO)).await;
    within(Duration::from_secs(60), async {
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Stateless)
            .oauth(browser().refresh_margin(Duration::ZERO))
            .connect()
            .await
            .expect("connect");
        for round in 0..2 {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            client
                .call_tool("echo", json!({"message": "later"}))
                .await
                .unwrap_or_else(|e| panic!("call after expiry {round}: {e}"));
        }
        client.close().await.expect("close");
    })
    .await;
    let stats = auth.stats().await;
    assert_eq!(stats.consents, 1, "no second consent: {stats:?}");
    assert_eq!(stats.refresh_requests, 2, "one refresh per expiry");
    assert!(
        stats.token_errors.is_empty(),
        "the rotated refresh token was used: {stats:?}"
    );
    assert_eq!(server.stats().snapshot().auth_distinct_tokens, 3);
}

#[tokio::test]
async fn a_tool_that_needs_more_scope_leads_to_a_step_up_in_both_eras() {
    let Some(auth) = oidc::start_default().await else {
        return;
    };
    let server = protected(&auth, |a| a.tool_scope("add", "mcp:admin")).await;
    for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
        within(Duration::from_secs(60), async {
            let client = Client::builder(server.url())
                .protocol_era(era)
                .oauth(browser().scopes(["mcp:tools"]))
                .connect()
                .await
                .expect("connect");
            client
                .call_tool("echo", json!({"message": "x"}))
                .await
                .expect("echo");
            let sum = client
                .call_tool("add", json!({"a": 2, "b": 3}))
                .await
                .unwrap_or_else(|e| panic!("{era:?}: add after step-up: {e}"));
            assert_eq!(sum.content[0].as_text(), Some("5"), "{era:?}");
            client.close().await.expect("close");
        })
        .await;
    }
    let snap = server.stats().snapshot();
    assert_eq!(snap.auth_insufficient_scope, 2, "one 403 per era: {snap:?}");
    let stats = auth.stats().await;
    assert_eq!(
        stats.consents, 4,
        "a consent and a step-up per era: {stats:?}"
    );
}

async fn machine(auth: &AuthServer, oauth: OAuth) {
    let server = protected(auth, |a| a).await;
    within(Duration::from_secs(30), async {
        for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
            let client = Client::builder(server.url())
                .protocol_era(era)
                .oauth(oauth.clone())
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{era:?}: {e}"));
            client
                .call_tool("echo", json!({"message": "m"}))
                .await
                .expect("echo");
            client.close().await.expect("close");
        }
    })
    .await;
    let stats = auth.stats().await;
    assert_eq!(
        stats.token_requests_of("client_credentials"),
        2,
        "{stats:?}"
    );
    assert!(stats.token_errors.is_empty(), "{stats:?}");
    assert_eq!(
        stats.consents + stats.registrations.count,
        0,
        "no person, no registration"
    );
}

#[tokio::test]
async fn client_credentials_with_a_secret() {
    let Some(auth) = oidc::start_default().await else {
        return;
    };
    let client = oidc::MACHINE_SECRET;
    let oauth = OAuth::client_credentials(client.id).client_secret(client.secret.expect("secret"));
    machine(&auth, oauth).await;
}

#[tokio::test]
async fn client_credentials_with_private_keys_es256_and_rs256() {
    let jwks = oidc::fixture("client_jwks.json");
    let Some(auth) = oidc::start(AuthOptions {
        client_jwks: Some(jwks),
        ..AuthOptions::default()
    })
    .await
    else {
        return;
    };
    for key in [oidc::ES256_KEY, oidc::RS256_KEY] {
        let pem = std::fs::read(oidc::fixture(key.file)).expect("key fixture");
        let private = PrivateKey::from_pem(&pem).expect("pem").kid(key.kid);
        assert_eq!(private.algorithm(), key.alg);
        let oauth = OAuth::client_credentials(oidc::MACHINE_JWT.id).private_key(private);
        let server = protected(&auth, |a| a).await;
        let client = Client::builder(server.url())
            .oauth(oauth)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", key.alg));
        client
            .call_tool("echo", json!({"message": "k"}))
            .await
            .expect("echo");
        client.close().await.expect("close");
    }
    let stats = auth.stats().await;
    assert_eq!(
        stats.token_requests_of("client_credentials"),
        2,
        "{stats:?}"
    );
    assert!(stats.token_errors.is_empty(), "{stats:?}");
}

#[tokio::test]
async fn two_tools_hold_their_own_tokens_unless_a_store_is_lent() {
    let Some(auth) = oidc::start_default().await else {
        return;
    };
    // The keys given, so that the only connections to the authorization server are the tools'.
    let jwks = mcptool::http_client_builder()
        .expect("builder")
        .build()
        .expect("http client")
        .get(auth.jwks_uri())
        .header("connection", "close")
        .send()
        .await
        .expect("jwks")
        .text()
        .await
        .expect("jwks body");
    let server = protected(&auth, |a| a.jwks(jwks)).await;
    let baseline = auth.stats().await.open_connections;
    let run = |oauth: OAuth| {
        let url = server.url();
        async move {
            let tool = McpStreamableHttpTool::builder("p", url)
                .oauth(oauth)
                .build()
                .expect("tool");
            tool.connect().await.expect("connect");
            tool.client()
                .expect("client")
                .call_tool("echo", json!({"message": "t"}))
                .await
                .expect("echo");
            tool.close().await.expect("close");
        }
    };
    within(Duration::from_secs(90), async {
        run(browser()).await;
        run(browser()).await;
    })
    .await;
    assert_eq!(auth.stats().await.consents, 2, "each tool its own flow");
    assert_eq!(server.stats().snapshot().auth_distinct_tokens, 2);
    let store = Arc::new(MemoryTokenStore::new());
    within(Duration::from_secs(60), async {
        run(browser().token_store(store.clone())).await;
        run(browser().token_store(store.clone())).await;
    })
    .await;
    assert_eq!(
        auth.stats().await.consents,
        3,
        "the lent store's token served both"
    );
    assert_eq!(server.stats().snapshot().auth_distinct_tokens, 3);
    let mut open = u64::MAX;
    for _ in 0..50 {
        open = auth.stats().await.open_connections;
        if open <= baseline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        open <= baseline,
        "no tool's connection to the authorization server after close(): {open} open, {baseline} before"
    );
}

#[tokio::test]
async fn without_oauth_a_protected_server_gives_an_authorization_error_that_says_what_to_do() {
    let Some(auth) = oidc::start_default().await else {
        return;
    };
    let server = protected(&auth, |a| a).await;
    let err = Client::builder(server.url())
        .connect()
        .await
        .expect_err("401");
    assert_eq!(err.kind(), ErrorKind::Authorization);
    assert_eq!(err.auth_failure(), Some(mcptool::AuthFailure::Required));
    assert_eq!(err.status(), Some(401));
    let text = err.to_string();
    assert!(text.contains("oauth") || text.contains("OAuth"), "{text}");
    assert!(
        text.contains("/.well-known/oauth-protected-resource"),
        "{text}"
    );
    let _ = wait_stats(&server, "one refusal", |s| s.auth_missing >= 1).await;
}
