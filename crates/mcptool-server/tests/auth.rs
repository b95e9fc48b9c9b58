//! The server as an OAuth 2.1 protected resource, with the JWKS given in the configuration:
//! the protected resource metadata, the 401 challenges (no token, each kind of invalid token),
//! both eras with a valid token, the 403 scope challenge of a tool in both eras, the refusal of
//! a token in the URL, and what the stats count. Fetching the JWKS is in `auth_jwks.rs`.

mod support;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcptool_server::{AuthConfig, ServerConfig};
use serde_json::{Value, json};
use support::auth::{claims, ec1, jwks, now, rsa1, rsa2, unsigned};
use support::{Reply, TestServer, request, run};

const ISSUER: &str = "https://issuer.test";
const NEEDS_MORE: &str = "the token lacks a scope this request needs";

/// Trusts [`ISSUER`] with `rsa-1` (RS256), `ec-1` (ES256) and `rsa-1-ps` (PS256).
fn given_keys() -> AuthConfig {
    let ps = rsa1().with("rsa-1-ps", Algorithm::PS256);
    AuthConfig::new(ISSUER).jwks(jwks(&[&rsa1(), &ec1(), &ps]))
}

async fn protected(auth: AuthConfig) -> TestServer {
    TestServer::start(ServerConfig::default().stats_endpoint(true).auth(auth)).await
}

/// A token of `rsa-1` for the server, with `scope`.
fn token(t: &TestServer, scope: &str) -> String {
    rsa1().sign(&claims(ISSUER, &t.url, scope))
}

fn metadata_url(t: &TestServer) -> String {
    format!("{}/.well-known/oauth-protected-resource/mcp", t.origin())
}

fn initialize() -> Value {
    let params = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}});
    request(1, "initialize", params)
}

fn challenge(reply: &Reply) -> &str {
    reply.header("www-authenticate").expect("WWW-Authenticate")
}

#[tokio::test]
async fn metadata_is_served_at_the_endpoint_path_and_at_the_root() {
    run(async {
        let t = protected(given_keys()).await;
        let expected = json!({
            "resource": t.url,
            "authorization_servers": [ISSUER],
            "scopes_supported": ["mcp:tools", "mcp:admin"],
            "bearer_methods_supported": ["header"],
        });
        for url in [
            metadata_url(&t),
            format!("{}/.well-known/oauth-protected-resource", t.origin()),
        ] {
            let reply = Reply::read(t.http.get(&url).send().await.expect("GET")).await;
            assert_eq!(reply.status, 200, "{url}: {}", reply.body);
            assert_eq!(reply.json(), expected, "{url}");
        }
        assert_eq!(t.url, format!("{}/mcp", t.origin()), "the canonical URL");
        assert_eq!(
            t.snapshot().auth_missing,
            0,
            "the metadata is not protected"
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn no_token_gets_401_naming_the_metadata_on_every_method() {
    run(async {
        let t = protected(given_keys()).await;
        let expected = format!("Bearer resource_metadata=\"{}\"", metadata_url(&t));
        let post = t.post(None, &initialize()).await;
        assert_eq!(post.status, 401, "{}", post.body);
        assert_eq!(challenge(&post), expected);
        for builder in [t.http.get(&t.url), t.http.delete(&t.url)] {
            let reply = Reply::read(builder.send().await.expect("request")).await;
            assert_eq!((reply.status, challenge(&reply)), (401, expected.as_str()));
        }
        // The URL in the challenge is absolute and answers without a token.
        let url = metadata_url(&t);
        let metadata = Reply::read(t.http.get(&url).send().await.expect("GET")).await;
        assert_eq!(metadata.json()["resource"], t.url.as_str());
        let snap = t.snapshot();
        assert_eq!((snap.auth_missing, snap.auth_accepted), (3, 0));
        assert_eq!(snap.sessions_opened, 0, "nothing ran");
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn the_401_names_the_scopes_every_request_needs() {
    run(async {
        let mut t = protected(given_keys().required_scope("mcp:tools")).await;
        let url = metadata_url(&t);
        let reply = t.post(None, &initialize()).await;
        let expected = format!("Bearer resource_metadata=\"{url}\", scope=\"mcp:tools\"");
        assert_eq!((reply.status, challenge(&reply)), (401, expected.as_str()));
        // A valid token without it gets the 403 step-up challenge, even for initialize.
        t.use_token(Some(&token(&t, "")));
        let reply = t.post(None, &initialize()).await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        let expected = format!(
            "Bearer error=\"insufficient_scope\", scope=\"mcp:tools\", resource_metadata=\"{url}\", error_description=\"{NEEDS_MORE}\""
        );
        assert_eq!(challenge(&reply), expected);
        t.use_token(Some(&token(&t, "mcp:tools")));
        t.session().await;
        let snap = t.snapshot();
        assert_eq!((snap.auth_missing, snap.auth_insufficient_scope), (1, 1));
        assert_eq!(snap.sessions_opened, 1);
        t.finish().await;
    })
    .await;
}

/// Sends `make(server)` as the bearer token and expects 401 `invalid_token` with `why`.
async fn refused(make: impl FnOnce(&TestServer) -> String, why: &str) {
    let mut t = protected(given_keys()).await;
    let token = make(&t);
    t.use_token(Some(&token));
    let reply = t.post(None, &initialize()).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let expected = format!(
        "Bearer error=\"invalid_token\", error_description=\"{why}\", resource_metadata=\"{}\"",
        metadata_url(&t)
    );
    assert_eq!(challenge(&reply), expected);
    assert!(!reply.body.contains(&token), "the token is not echoed");
    let snap = t.snapshot();
    assert_eq!((snap.auth_invalid, snap.auth_accepted), (1, 0));
    assert_eq!(snap.sessions_opened, 0);
    t.finish().await;
}

#[tokio::test]
async fn an_expired_token_is_invalid() {
    run(refused(
        |t| {
            let mut c = claims(ISSUER, &t.url, "");
            c["exp"] = json!(now() - 60);
            rsa1().sign(&c)
        },
        "the token has expired",
    ))
    .await;
}

#[tokio::test]
async fn a_token_not_valid_yet_is_invalid() {
    run(refused(
        |t| {
            let mut c = claims(ISSUER, &t.url, "");
            c["nbf"] = json!(now() + 300);
            rsa1().sign(&c)
        },
        "the token is not valid yet (nbf)",
    ))
    .await;
}

#[tokio::test]
async fn a_token_for_another_resource_is_invalid() {
    run(refused(
        |_| rsa1().sign(&claims(ISSUER, "http://127.0.0.1:1/mcp", "")),
        "the token is not meant for this resource (aud)",
    ))
    .await;
}

#[tokio::test]
async fn a_token_of_another_issuer_is_invalid() {
    run(refused(
        |t| rsa1().sign(&claims("https://other.test", &t.url, "")),
        "the token was issued by another issuer",
    ))
    .await;
}

#[tokio::test]
async fn a_token_signed_by_an_unpublished_key_is_invalid() {
    run(refused(
        |t| rsa2().sign(&claims(ISSUER, &t.url, "")),
        "the token is signed by a key the issuer does not publish",
    ))
    .await;
}

#[tokio::test]
async fn a_token_with_a_bad_signature_is_invalid() {
    run(refused(
        |t| {
            // A signature by `rsa-2` under `rsa-1`'s kid.
            rsa2()
                .with("rsa-1", Algorithm::RS256)
                .sign(&claims(ISSUER, &t.url, ""))
        },
        "the token signature is invalid",
    ))
    .await;
}

#[tokio::test]
async fn an_unsigned_token_is_invalid() {
    run(refused(
        |t| unsigned("rsa-1", &claims(ISSUER, &t.url, "")),
        "the token is not signed with RS256, ES256 or PS256",
    ))
    .await;
}

#[tokio::test]
async fn an_hmac_token_is_invalid() {
    run(refused(
        |t| {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("rsa-1".to_owned());
            let key = EncodingKey::from_secret(b"a shared secret").expect("key");
            jsonwebtoken::encode(&header, &claims(ISSUER, &t.url, ""), &key).expect("sign")
        },
        "the token is not signed with RS256, ES256 or PS256",
    ))
    .await;
}

#[tokio::test]
async fn a_valid_token_serves_the_session_era() {
    run(async {
        let mut t = protected(given_keys()).await;
        t.use_token(Some(&token(&t, "mcp:tools")));
        let session = t.session().await;
        let echo = t
            .call_tool(&session, "echo", json!({"message": "hi"}))
            .await;
        assert_eq!(echo["content"][0]["text"], "hi", "{echo}");
        let get = t.get_builder(&session).send().await.expect("GET");
        assert_eq!(get.status(), 200);
        drop(get);
        let delete = t.delete_builder(&session).send().await.expect("DELETE");
        assert_eq!(delete.status(), 200);
        let snap = t.snapshot();
        assert_eq!((snap.auth_accepted, snap.auth_distinct_tokens), (5, 1));
        assert_eq!((snap.sessions_opened, snap.sessions_deleted), (1, 1));
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_valid_token_serves_2026_07_28() {
    run(async {
        let mut t = protected(given_keys()).await;
        t.use_token(Some(&token(&t, "mcp:tools")));
        let discover = t.modern("server/discover", json!({})).await;
        assert_eq!(discover.status, 200, "{}", discover.body);
        let echo = t.modern_call("echo", json!({"message": "hi"})).await;
        assert_eq!(echo["result"]["content"][0]["text"], "hi", "{echo}");
        let snap = t.snapshot();
        assert_eq!((snap.auth_accepted, snap.discover_calls), (2, 1));
        assert_eq!(snap.stateless_requests, 2);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn es256_and_ps256_tokens_and_audience_arrays_are_accepted() {
    run(async {
        let mut t = protected(given_keys()).await;
        let mut c = claims(ISSUER, &t.url, "");
        c["aud"] = json!(["https://elsewhere.test", t.url]);
        let ps = rsa1().with("rsa-1-ps", Algorithm::PS256);
        for token in [ec1().sign(&c), ps.sign(&c)] {
            t.use_token(Some(&token));
            let reply = t.modern("server/discover", json!({})).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        let snap = t.snapshot();
        assert_eq!((snap.auth_accepted, snap.auth_distinct_tokens), (2, 2));
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn a_configured_resource_is_the_audience_and_names_the_metadata() {
    run(async {
        let resource = "https://mcp.example.com/public/mcp";
        let mut t = protected(given_keys().resource(resource)).await;
        let reply = t.post(None, &initialize()).await;
        let expected = "Bearer resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp\"";
        assert_eq!((reply.status, challenge(&reply)), (401, expected));
        for path in ["/mcp", "/public/mcp"] {
            let url = format!("{}/.well-known/oauth-protected-resource{path}", t.origin());
            let metadata = Reply::read(t.http.get(&url).send().await.expect("GET")).await;
            assert_eq!(metadata.json()["resource"], resource, "{url}");
        }
        // A token for the local URL is not for this resource; one for the resource is.
        t.use_token(Some(&token(&t, "")));
        assert_eq!(t.post(None, &initialize()).await.status, 401);
        t.use_token(Some(&rsa1().sign(&claims(ISSUER, resource, ""))));
        t.session().await;
        let snap = t.snapshot();
        assert_eq!((snap.auth_missing, snap.auth_invalid), (1, 1));
        assert_eq!(snap.sessions_opened, 1);
        t.finish().await;
    })
    .await;
}
