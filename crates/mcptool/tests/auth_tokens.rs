//! Keeping a token (SPEC_NOTES "Authorization" items 10 and 12): refreshed before it expires
//! with the newest (rotated) refresh token, refreshed when the server refuses it early, a new
//! authorization when the refresh is refused or no refresh token was issued; and the
//! `client_credentials` grant with a secret or a `private_key_jwt` assertion (ES256, RS256),
//! checked by the scripted authorization server and used against the strict server.

mod support;

use std::sync::Arc;
use std::time::Duration;

use mcptool::{AuthFailure, MemoryTokenStore, OAuth, PrivateKey, ProtocolEra, TokenStore};
use mcptool_server::{Era, RunningServer};
use serde_json::json;
use support::oauth_script::{
    ClientEntry, JWT_BEARER, ScriptServer, assert_auth_error, browser, claims_of, client, fixture,
    now_secs, strict_server,
};
use support::within;

const LIMIT: Duration = Duration::from_secs(40);
/// Long enough for a one-second token to be past its expiry, by the second.
const PAST_EXPIRY: Duration = Duration::from_millis(2100);

/// The strict server trusting `auth`, refusing tokens the moment they expire.
async fn strict(auth: &ScriptServer) -> RunningServer {
    strict_server(&auth.issuer(), Era::Both, |a| a.leeway(Duration::ZERO)).await
}

async fn echo(mcp: &mcptool::Client) {
    let answer = mcp
        .call_tool("echo", json!({"message": "x"}))
        .await
        .expect("echo");
    assert_eq!(answer.content[0].as_text(), Some("x"));
}

#[tokio::test]
async fn a_token_is_refreshed_before_it_expires_with_the_newest_refresh_token() {
    within(LIMIT, async {
        for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
            let auth = ScriptServer::auth_server().await;
            auth.script(|s| s.expires_in = Some(1));
            let server = strict(&auth).await;
            let store = Arc::new(MemoryTokenStore::new());
            let oauth = browser()
                .oauth()
                .refresh_margin(Duration::ZERO)
                .token_store(store.clone());
            let mcp = client(&server.url(), era, oauth)
                .connect()
                .await
                .expect("connect");
            for _ in 0..2 {
                tokio::time::sleep(PAST_EXPIRY).await;
                echo(&mcp).await;
            }
            mcp.close().await.expect("close");
            assert_eq!(
                auth.grants(),
                ["authorization_code", "refresh_token", "refresh_token"]
            );
            let issued = auth.issued();
            let used: Vec<_> = auth
                .token_requests()
                .iter()
                .skip(1)
                .map(|t| t.form("refresh_token"))
                .collect();
            assert_eq!(
                used,
                [
                    issued[0].refresh_token.clone(),
                    issued[1].refresh_token.clone()
                ]
            );
            let kept = store
                .tokens(&server.url())
                .await
                .expect("store")
                .expect("tokens");
            assert_eq!(
                kept.refresh_token.as_ref().map(|r| r.expose()),
                issued[2].refresh_token.as_deref()
            );
            assert_eq!(kept.access_token.expose(), issued[2].access_token);
            let snap = server.stats().snapshot();
            assert_eq!(
                snap.auth_invalid, 0,
                "{era:?}: no expired token was ever sent"
            );
            assert_eq!(snap.auth_distinct_tokens, 3);
            assert_eq!(auth.authorizations().len(), 1);
        }
    })
    .await;
}

#[tokio::test]
async fn a_token_refused_before_its_expiry_is_refreshed_and_the_request_repeated() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.jwt_lifetime = Some(1));
        let server = strict(&auth).await;
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect");
        tokio::time::sleep(PAST_EXPIRY).await;
        echo(&mcp).await;
        mcp.close().await.expect("close");
        assert_eq!(auth.grants(), ["authorization_code", "refresh_token"]);
        let first_refresh = auth.issued()[0].refresh_token.clone();
        assert_eq!(
            auth.token_requests()[1].form("refresh_token"),
            first_refresh
        );
        let snap = server.stats().snapshot();
        assert_eq!((snap.auth_invalid, snap.auth_distinct_tokens), (1, 2));
        assert_eq!(auth.authorizations().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_refused_refresh_falls_back_to_a_new_authorization() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| {
            s.expires_in = Some(1);
            s.refuse_refresh = true;
        });
        let server = strict(&auth).await;
        let oauth = browser().oauth().refresh_margin(Duration::ZERO);
        let mcp = client(&server.url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect("connect");
        tokio::time::sleep(PAST_EXPIRY).await;
        echo(&mcp).await;
        mcp.close().await.expect("close");
        assert_eq!(
            auth.grants(),
            ["authorization_code", "refresh_token", "authorization_code"]
        );
        assert_eq!(auth.authorizations().len(), 2);
        assert_eq!(auth.registrations().len(), 1, "the registration is kept");
        assert_eq!(server.stats().snapshot().auth_distinct_tokens, 2);
    })
    .await;
}

#[tokio::test]
async fn without_a_refresh_token_an_expired_token_leads_to_a_new_authorization() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| {
            s.expires_in = Some(1);
            s.issue_refresh_tokens = false;
        });
        let server = strict(&auth).await;
        let oauth = browser().oauth().refresh_margin(Duration::ZERO);
        let mcp = client(&server.url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect("connect");
        tokio::time::sleep(PAST_EXPIRY).await;
        echo(&mcp).await;
        mcp.close().await.expect("close");
        assert_eq!(auth.grants(), ["authorization_code", "authorization_code"]);
        assert!(auth.issued().iter().all(|i| i.refresh_token.is_none()));
        assert_eq!(server.stats().snapshot().auth_distinct_tokens, 2);
    })
    .await;
}

/// A machine client `id` known to the authorization server as `entry`, against the strict
/// server needing `mcp:tools`, in `era`: the call works; returns the token request.
async fn machine(
    entry: ClientEntry,
    id: &str,
    oauth: OAuth,
    era: ProtocolEra,
) -> (ScriptServer, support::oauth_script::Seen) {
    let auth = ScriptServer::auth_server().await;
    auth.script(|s| s.clients.insert(id.to_owned(), entry));
    let server = strict_server(&auth.issuer(), Era::Both, |a| a.required_scope("mcp:tools")).await;
    let mcp = client(&server.url(), era, oauth)
        .connect()
        .await
        .expect("connect");
    echo(&mcp).await;
    mcp.close().await.expect("close");
    assert!(auth.authorizations().is_empty() && auth.registrations().is_empty());
    assert_eq!(auth.grants(), ["client_credentials"]);
    let token = auth.token_requests()[0].clone();
    assert_eq!(token.form("resource"), Some(server.url()));
    assert_eq!(token.form("scope").as_deref(), Some("mcp:tools"));
    assert_eq!(server.stats().snapshot().auth_distinct_tokens, 1);
    (auth, token)
}

#[tokio::test]
async fn client_credentials_with_a_secret() {
    within(LIMIT, async {
        for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
            let entry = ClientEntry::with("client_secret_basic", Some("m-s3cret"));
            let oauth = OAuth::client_credentials("machine").client_secret("m-s3cret");
            let (_, token) = machine(entry, "machine", oauth, era).await;
            assert_eq!(token.auth_scheme().as_deref(), Some("Basic"));
            assert_eq!(token.form("client_secret"), None);
        }
    })
    .await;
}

async fn private_key_jwt(pem: &str, kid: &str, alg: &str) {
    let jwks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("client_jwks.json")).expect("jwks"))
            .expect("json");
    let key = PrivateKey::from_pem(&std::fs::read(fixture(pem)).expect("pem"))
        .expect("key")
        .kid(kid);
    assert_eq!(key.algorithm(), alg);
    let oauth = OAuth::client_credentials("machine-jwt").private_key(key);
    let (auth, token) = machine(
        ClientEntry::key(jwks),
        "machine-jwt",
        oauth,
        ProtocolEra::Session,
    )
    .await;
    assert_eq!(token.header("authorization"), None);
    assert_eq!(token.form("client_secret"), None);
    assert_eq!(
        token.form("client_assertion_type").as_deref(),
        Some(JWT_BEARER)
    );
    let assertion = token.form("client_assertion").expect("an assertion");
    let header = jsonwebtoken::decode_header(&assertion).expect("header");
    assert_eq!(
        (format!("{:?}", header.alg), header.kid.as_deref()),
        (alg.to_owned(), Some(kid))
    );
    let claims = claims_of(&assertion);
    assert_eq!(claims["iss"], "machine-jwt");
    assert_eq!(claims["sub"], "machine-jwt");
    assert_eq!(claims["aud"], json!(auth.issuer()));
    assert!(claims["exp"].as_u64().expect("exp") > now_secs());
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
}

#[tokio::test]
async fn client_credentials_with_a_private_key_jwt_es256() {
    within(
        LIMIT,
        private_key_jwt("client_es256.pem", "es256-1", "ES256"),
    )
    .await;
}

#[tokio::test]
async fn client_credentials_with_a_private_key_jwt_rs256() {
    within(
        LIMIT,
        private_key_jwt("client_rs256.pem", "rs256-1", "RS256"),
    )
    .await;
}

#[tokio::test]
async fn a_machine_client_with_neither_secret_nor_key_is_refused_before_the_token_endpoint() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict(&auth).await;
        let err = client(
            &server.url(),
            ProtocolEra::Session,
            OAuth::client_credentials("bare"),
        )
        .connect()
        .await
        .expect_err("no credentials");
        assert_auth_error(
            &err,
            AuthFailure::Registration,
            "neither a client secret nor a private key",
            &[],
        );
        assert!(auth.token_requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_kept_token_past_its_expiry_is_refreshed_by_the_next_client_of_the_store() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.expires_in = Some(1));
        let server = strict(&auth).await;
        let store = Arc::new(MemoryTokenStore::new());
        let browser = browser();
        for pause in [Duration::ZERO, PAST_EXPIRY] {
            tokio::time::sleep(pause).await;
            let oauth = browser
                .oauth()
                .refresh_margin(Duration::ZERO)
                .token_store(store.clone());
            let mcp = client(&server.url(), ProtocolEra::Stateless, oauth)
                .connect()
                .await
                .expect("connect");
            echo(&mcp).await;
            mcp.close().await.expect("close");
        }
        assert_eq!(auth.grants(), ["authorization_code", "refresh_token"]);
        assert_eq!(browser.calls(), 1);
        let snap = server.stats().snapshot();
        assert_eq!(
            (snap.auth_missing, snap.auth_invalid),
            (1, 0),
            "the second sent a fresh token at once"
        );
    })
    .await;
}

/// A store that fails every read and write.
#[derive(Debug)]
struct BrokenStore;

impl TokenStore for BrokenStore {
    fn tokens<'a>(&'a self, _: &'a str) -> mcptool::StoreFuture<'a, Option<mcptool::StoredTokens>> {
        Box::pin(async { Err("the disk is full".to_owned()) })
    }
    fn save_tokens(&self, _: mcptool::StoredTokens) -> mcptool::StoreFuture<'_, ()> {
        Box::pin(async { Err("the disk is full".to_owned()) })
    }
    fn remove_tokens<'a>(&'a self, _: &'a str) -> mcptool::StoreFuture<'a, ()> {
        Box::pin(async { Err("the disk is full".to_owned()) })
    }
    fn client<'a>(
        &'a self,
        _: &'a str,
    ) -> mcptool::StoreFuture<'a, Option<mcptool::ClientRegistration>> {
        Box::pin(async { Err("the disk is full".to_owned()) })
    }
    fn save_client(&self, _: mcptool::ClientRegistration) -> mcptool::StoreFuture<'_, ()> {
        Box::pin(async { Err("the disk is full".to_owned()) })
    }
}

#[tokio::test]
async fn a_failing_token_store_is_a_store_error() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server = strict(&auth).await;
        let oauth = browser().oauth().token_store(Arc::new(BrokenStore));
        let err = client(&server.url(), ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect_err("no store");
        assert_auth_error(
            &err,
            AuthFailure::Store,
            "the disk is full",
            &auth.secrets(),
        );
        assert!(auth.token_requests().is_empty(), "{:?}", auth.lines());
    })
    .await;
}

#[tokio::test]
async fn a_token_shorter_than_the_refresh_margin_is_not_refreshed_on_every_request() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.expires_in = Some(30));
        let server = strict(&auth).await;
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect");
        for _ in 0..3 {
            echo(&mcp).await;
        }
        mcp.close().await.expect("close");
        assert_eq!(
            auth.grants(),
            ["authorization_code"],
            "60 s margin, 30 s token"
        );
    })
    .await;
}
