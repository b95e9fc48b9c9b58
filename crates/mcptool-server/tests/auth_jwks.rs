//! The issuer's keys, fetched: discovery of its metadata (RFC 8414, then OpenID Connect, with the
//! issuer's path), the exact `issuer` check, a clear start failure when nothing can be fetched,
//! and key rotation — an unknown `kid` re-fetches the JWKS once, at most once per interval.

mod support;

use std::time::Duration;

use jsonwebtoken::Algorithm;
use mcptool_server::{AuthConfig, Server, ServerConfig, StartError};
use serde_json::json;
use support::auth::{TestIssuer, TestKey, claims, rsa1, rsa2};
use support::{TestServer, run};

async fn protected(auth: AuthConfig) -> TestServer {
    TestServer::start(ServerConfig::default().auth(auth)).await
}

/// The status of a `server/discover` with a token of `key` for `t`, issued by `issuer`.
async fn discover_with(t: &mut TestServer, issuer: &str, key: &TestKey) -> u16 {
    t.use_token(Some(&key.sign(&claims(issuer, &t.url, ""))));
    t.modern("server/discover", json!({})).await.status
}

/// The error and its causes on one line.
fn chain(err: &StartError) -> String {
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(err) = cause {
        text.push_str(": ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

#[tokio::test]
async fn the_jwks_is_fetched_from_the_issuers_metadata_at_start() {
    run(async {
        let issuer = TestIssuer::start(&[&rsa1()]).await;
        let mut t = protected(AuthConfig::new(issuer.url())).await;
        assert_eq!(issuer.jwks_fetches(), 1);
        assert_eq!(discover_with(&mut t, issuer.url(), &rsa1()).await, 200);
        assert_eq!(issuer.jwks_fetches(), 1, "a known kid fetches nothing");
        let snap = t.snapshot();
        assert_eq!((snap.auth_jwks_fetches, snap.auth_accepted), (1, 1));
        t.finish().await;
        issuer.finish().await;
    })
    .await;
}

#[tokio::test]
async fn discovery_falls_back_to_openid_configuration_with_the_issuer_path() {
    run(async {
        let only_oidc = "/.well-known/openid-configuration/tenant";
        let issuer = TestIssuer::serve(&[&rsa1()], "/tenant", only_oidc, None).await;
        assert!(issuer.url().ends_with("/tenant"));
        let mut t = protected(AuthConfig::new(issuer.url())).await;
        assert_eq!(discover_with(&mut t, issuer.url(), &rsa1()).await, 200);
        assert_eq!(issuer.jwks_fetches(), 1);
        t.finish().await;
        issuer.finish().await;
    })
    .await;
}

#[tokio::test]
async fn start_fails_when_the_metadata_names_another_issuer() {
    run(async {
        let metadata = "/.well-known/oauth-authorization-server";
        let claimed = Some("https://honest.test");
        let issuer = TestIssuer::serve(&[&rsa1()], "", metadata, claimed).await;
        let config = ServerConfig::default().auth(AuthConfig::new(issuer.url()));
        let err = Server::start(config).await.expect_err("a foreign issuer");
        assert!(err.is_auth(), "{err:?}");
        let text = chain(&err);
        assert!(text.contains("another issuer"), "{text}");
        assert_eq!(
            issuer.jwks_fetches(),
            0,
            "the foreign metadata was not used"
        );
        issuer.finish().await;
    })
    .await;
}

#[tokio::test]
async fn start_fails_clearly_when_the_issuer_is_unreachable() {
    run(async {
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr")
        };
        let issuer = format!("http://{closed}");
        let config = ServerConfig::default().auth(AuthConfig::new(&issuer));
        let err = Server::start(config).await.expect_err("nothing to fetch");
        assert!(err.is_auth(), "{err:?}");
        let text = chain(&err);
        assert!(
            text.contains(&format!(
                "cannot read the authorization server metadata of {issuer}"
            )),
            "{text}"
        );
        assert!(text.contains("/.well-known/openid-configuration"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_jwks_once_and_is_then_accepted() {
    run(async {
        let issuer = TestIssuer::start(&[&rsa1()]).await;
        let mut t = protected(AuthConfig::new(issuer.url())).await;
        issuer.rotate(&[&rsa1(), &rsa2()]);
        assert_eq!(discover_with(&mut t, issuer.url(), &rsa2()).await, 200);
        assert_eq!(issuer.jwks_fetches(), 2, "one re-fetch for the new kid");
        assert_eq!(discover_with(&mut t, issuer.url(), &rsa2()).await, 200);
        assert_eq!(discover_with(&mut t, issuer.url(), &rsa1()).await, 200);
        assert_eq!(issuer.jwks_fetches(), 2, "the new set is cached");
        // Within the interval a kid the issuer does not publish fetches nothing more.
        let stranger = rsa2().with("rsa-9", Algorithm::RS256);
        assert_eq!(discover_with(&mut t, issuer.url(), &stranger).await, 401);
        assert_eq!(issuer.jwks_fetches(), 2);
        let snap = t.snapshot();
        assert_eq!((snap.auth_jwks_fetches, snap.auth_accepted), (2, 3));
        assert_eq!(snap.auth_invalid, 1);
        t.finish().await;
        issuer.finish().await;
    })
    .await;
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    run(async {
        let issuer = TestIssuer::start(&[&rsa1()]).await;
        let interval = Duration::from_millis(300);
        let auth = AuthConfig::new(issuer.url()).jwks_refetch_interval(interval);
        let mut t = protected(auth).await;
        let stranger = rsa2().with("rsa-9", Algorithm::RS256);
        t.use_token(Some(&stranger.sign(&claims(issuer.url(), &t.url, ""))));
        // Eight at once wait for one fetch.
        let calls = (0..8).map(|_| t.modern("server/discover", json!({})));
        let replies = futures_util::future::join_all(calls).await;
        assert!(replies.iter().all(|r| r.status == 401));
        assert_eq!(issuer.jwks_fetches(), 2);
        assert_eq!(t.modern("server/discover", json!({})).await.status, 401);
        assert_eq!(issuer.jwks_fetches(), 2, "not again within the interval");
        tokio::time::sleep(interval + Duration::from_millis(50)).await;
        assert_eq!(t.modern("server/discover", json!({})).await.status, 401);
        assert_eq!(issuer.jwks_fetches(), 3, "again once the interval passed");
        assert_eq!(t.snapshot().auth_invalid, 10);
        t.finish().await;
        issuer.finish().await;
    })
    .await;
}
