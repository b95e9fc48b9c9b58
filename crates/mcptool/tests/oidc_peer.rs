//! The authorization server peer itself (`peers/auth/oidc.mjs`: npm `oidc-provider` 9.x on
//! Node 22), checked over plain HTTP before the authorization tests rely on it: its metadata at
//! the well-known places (also for an issuer with a path), a `client_credentials` token for a
//! resource, and one whole authorization-code flow with PKCE through the consent page, driven
//! by `peers/auth/browser.mjs` and delivered to a loopback listener of the test.

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::oidc::{
    self, AuthOptions, AuthServer, Consent, MACHINE_POST, MACHINE_SECRET, form, jwt_claims,
    query_value,
};
use support::peers::raw_http;
use support::within;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const LIMIT: Duration = Duration::from_secs(60);

async fn get_json(url: &str) -> Value {
    let response = raw_http().get(url).send().await.expect("GET");
    let status = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {body}"))
}

/// POSTs a form to the token endpoint; returns the status and the JSON answer.
async fn token_request(
    server: &AuthServer,
    basic: Option<(&str, &str)>,
    pairs: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = raw_http()
        .post(server.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs));
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.expect("POST token");
    let status = response.status().as_u16();
    let body = response.text().await.expect("token body");
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("token: {e}: {body}"));
    (status, json)
}

fn assert_oauth_metadata(metadata: &Value, issuer: &str) {
    assert_eq!(metadata["issuer"], issuer, "{metadata:#}");
    let methods = metadata["code_challenge_methods_supported"]
        .as_array()
        .expect("code_challenge_methods_supported");
    assert!(methods.contains(&json!("S256")), "{methods:?}");
    assert_eq!(
        metadata["registration_endpoint"],
        format!("{issuer}/reg"),
        "{metadata:#}"
    );
    assert_eq!(metadata["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(metadata["authorization_endpoint"], format!("{issuer}/auth"));
    assert_eq!(
        metadata["authorization_response_iss_parameter_supported"],
        true
    );
    let scopes = metadata["scopes_supported"].as_array().expect("scopes");
    for scope in ["offline_access", "mcp:tools", "mcp:admin"] {
        assert!(scopes.contains(&json!(scope)), "{scope} in {scopes:?}");
    }
    let grants = metadata["grant_types_supported"]
        .as_array()
        .expect("grants");
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(grants.contains(&json!(grant)), "{grant} in {grants:?}");
    }
    assert!(!grants.contains(&json!("implicit")), "{grants:?}");
}

#[tokio::test]
async fn metadata_at_both_well_known_places() {
    within(LIMIT, async {
        let Some(server) = oidc::start_default().await else {
            return;
        };
        let issuer = server.issuer().to_owned();
        assert_eq!(issuer, server.origin());
        for url in [server.oauth_metadata_url(), server.openid_metadata_url()] {
            assert_oauth_metadata(&get_json(&url).await, &issuer);
        }
        let jwks = get_json(&server.jwks_uri()).await;
        assert_eq!(jwks["keys"][0]["alg"], "RS256", "{jwks:#}");
        assert!(jwks["keys"][0].get("d").is_none(), "private key published");
    })
    .await;
}

#[tokio::test]
async fn path_issuer_metadata_path_inserted_and_appended() {
    within(LIMIT, async {
        let Some(server) = oidc::start(AuthOptions::default().issuer_path("/tenant")).await else {
            return;
        };
        let issuer = server.issuer().to_owned();
        assert_eq!(issuer, format!("{}/tenant", server.origin()));
        let origin = server.origin();
        for url in [
            // RFC 8414 section 3.1, and the same insertion for the OpenID document
            format!("{origin}/.well-known/oauth-authorization-server/tenant"),
            format!("{origin}/.well-known/openid-configuration/tenant"),
            // OpenID Connect Discovery: appended to the issuer, and the OAuth one likewise
            format!("{issuer}/.well-known/openid-configuration"),
            format!("{issuer}/.well-known/oauth-authorization-server"),
        ] {
            assert_oauth_metadata(&get_json(&url).await, &issuer);
        }
        let root = raw_http()
            .get(format!("{origin}/.well-known/oauth-authorization-server"))
            .send()
            .await
            .expect("GET");
        assert_eq!(root.status(), 404, "the host root is no issuer");
    })
    .await;
}

#[tokio::test]
async fn client_credentials_jwt_for_the_resource() {
    within(LIMIT, async {
        let Some(server) = oidc::start_default().await else {
            return;
        };
        let resource = "http://127.0.0.1:9/mcp";
        let secret = MACHINE_SECRET.secret.expect("secret");
        let (status, basic) = token_request(
            &server,
            Some((MACHINE_SECRET.id, secret)),
            &[
                ("grant_type", "client_credentials"),
                ("resource", resource),
                ("scope", "mcp:tools"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{basic:#}");
        assert_eq!(basic["token_type"], "Bearer");
        assert_eq!(basic["scope"], "mcp:tools");
        let claims = jwt_claims(basic["access_token"].as_str().expect("access_token"));
        assert_eq!(claims["aud"], resource, "{claims:#}");
        assert_eq!(claims["scope"], "mcp:tools");
        assert_eq!(claims["iss"], server.issuer());
        assert_eq!(claims["client_id"], MACHINE_SECRET.id);
        assert_eq!(claims["sub"], MACHINE_SECRET.id);
        let lifetime = claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat");
        assert_eq!(lifetime, oidc::DEFAULT_ACCESS_TTL);

        let (status, post) = token_request(
            &server,
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", MACHINE_POST.id),
                ("client_secret", MACHINE_POST.secret.expect("secret")),
                ("resource", resource),
                ("scope", "mcp:tools mcp:admin"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{post:#}");
        let claims = jwt_claims(post["access_token"].as_str().expect("access_token"));
        assert_eq!(claims["aud"], resource);
        assert_eq!(claims["scope"], "mcp:tools mcp:admin");

        // Not a loopback resource: RFC 8707 invalid_target.
        let (status, refused) = token_request(
            &server,
            Some((MACHINE_SECRET.id, secret)),
            &[
                ("grant_type", "client_credentials"),
                ("resource", "http://example.invalid/mcp"),
            ],
        )
        .await;
        assert_eq!((status, &refused["error"]), (400, &json!("invalid_target")));

        let stats = server.stats().await;
        assert_eq!(
            stats.token_requests_of("client_credentials"),
            3,
            "{stats:#?}"
        );
        assert_eq!(
            stats.resources_at("token"),
            [resource, resource, "http://example.invalid/mcp"]
        );
        assert_eq!(stats.token_errors.len(), 1, "{stats:#?}");
        assert_eq!(stats.authorize_requests, 0);
    })
    .await;
}

/// S256 of a PKCE verifier (RFC 7636), with the SHA-256 of rustls's ring provider.
fn s256(verifier: &str) -> String {
    let suite = rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256
        .tls13()
        .expect("a TLS 1.3 suite");
    let digest = suite.common.hash_provider.hash(verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Accepts one request on `listener`, answers 200, and returns its request target.
async fn one_redirect(listener: TcpListener) -> String {
    let (mut socket, _) = listener.accept().await.expect("accept the redirect");
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut chunk).await.expect("read the redirect");
        assert!(n > 0, "the browser closed before a whole request head");
        head.extend_from_slice(&chunk[..n]);
    }
    let body = "you may close this tab";
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(answer.as_bytes()).await.expect("answer");
    let head = String::from_utf8_lossy(&head);
    let line = head.lines().next().unwrap_or_default();
    assert!(line.starts_with("GET "), "{line}");
    line.split(' ').nth(1).unwrap_or_default().to_owned()
}

fn authorization_url(server: &AuthServer, pairs: &[(&str, &str)]) -> String {
    format!("{}?{}", server.authorization_endpoint(), form(pairs))
}

#[tokio::test]
async fn authorization_code_with_pkce_through_the_consent_page() {
    within(LIMIT, async {
        let Some(server) = oidc::start_default().await else {
            return;
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind the redirect listener");
        let port = listener.local_addr().expect("addr").port();
        let redirect_uri = format!("http://127.0.0.1:{port}/callback");

        // RFC 7591 registration of a native public client.
        let registration = raw_http()
            .post(server.registration_endpoint())
            .header("content-type", "application/json")
            .body(
                json!({
                    "application_type": "native",
                    "client_name": "oidc_peer test",
                    "redirect_uris": [redirect_uri],
                    "token_endpoint_auth_method": "none",
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                })
                .to_string(),
            )
            .send()
            .await
            .expect("POST registration");
        assert_eq!(registration.status(), 201);
        let client: Value =
            serde_json::from_str(&registration.text().await.expect("body")).expect("JSON");
        let client_id = client["client_id"].as_str().expect("client_id").to_owned();

        let resource = "http://127.0.0.1:9/mcp";
        let verifier = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = s256(&verifier);
        let state = "state-1";
        let url = authorization_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", &redirect_uri),
                ("scope", "mcp:tools offline_access"),
                ("state", state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("resource", resource),
            ],
        );

        let delivered = tokio::spawn(one_redirect(listener));
        let run = oidc::consent(&url).await;
        assert!(run.stderr.contains("answered 200"), "{run:?}");
        let target = delivered.await.expect("the listener task");
        let (path, query) = target.split_once('?').expect("a query");
        assert_eq!(path, "/callback");
        assert_eq!(query_value(query, "state").as_deref(), Some(state));
        assert_eq!(query_value(query, "iss").as_deref(), Some(server.issuer()));
        let code = query_value(query, "code").unwrap_or_else(|| panic!("no code: {target}"));

        let (status, tokens) = token_request(
            &server,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &client_id),
                ("code", &code),
                ("code_verifier", &verifier),
                ("redirect_uri", &redirect_uri),
                ("resource", resource),
            ],
        )
        .await;
        assert_eq!(status, 200, "{tokens:#}");
        let claims = jwt_claims(tokens["access_token"].as_str().expect("access_token"));
        assert_eq!(claims["aud"], resource, "{claims:#}");
        assert_eq!(claims["sub"], oidc::ACCOUNT);
        assert_eq!(claims["scope"], "mcp:tools");
        assert_eq!(claims["client_id"], client_id.as_str());
        let refresh = tokens["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("offline_access was asked, no refresh token: {tokens:#}"))
            .to_owned();

        // The refresh token works once and is rotated.
        let (status, refreshed) = token_request(
            &server,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &client_id),
                ("refresh_token", &refresh),
                ("resource", resource),
            ],
        )
        .await;
        assert_eq!(status, 200, "{refreshed:#}");
        assert_eq!(
            jwt_claims(refreshed["access_token"].as_str().expect("at"))["aud"],
            resource
        );
        let rotated = refreshed["refresh_token"].as_str().expect("rotated");
        assert_ne!(rotated, refresh);

        // RFC 8252 section 7.3: another port of the registered loopback redirect is accepted.
        let other = format!("http://127.0.0.1:{}/callback", port.wrapping_add(1).max(1));
        let url = authorization_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", &other),
                ("scope", "mcp:tools"),
                ("state", "state-2"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("resource", resource),
            ],
        );
        let to = oidc::redirect_after_consent(&url, Consent::Deny).await;
        assert!(to.starts_with(&format!("{other}?")), "{to}");
        assert_eq!(
            query_value(to.split_once('?').expect("query").1, "error").as_deref(),
            Some("access_denied")
        );

        let stats = server.stats().await;
        assert_eq!(stats.registrations.count, 1, "{stats:#?}");
        let registered = &stats.registrations.clients[0];
        assert_eq!(registered.application_type, "native");
        assert_eq!(registered.token_endpoint_auth_method, "none");
        assert_eq!(stats.authorize_requests, 2);
        assert_eq!((stats.consents, stats.denials), (1, 1));
        assert_eq!(stats.token_requests_of("authorization_code"), 1);
        assert_eq!(stats.refresh_requests, 1);
        assert_eq!(stats.resources_at("authorization"), [resource, resource]);
        assert_eq!(stats.resources_at("token"), [resource, resource]);
        assert!(stats.token_errors.is_empty(), "{stats:#?}");
    })
    .await;
}
