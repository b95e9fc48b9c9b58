//! What broken or hostile authorization servers and resources get: a malformed challenge,
//! malformed or incomplete metadata, redirects from metadata URLs, unusable token responses
//! (no `access_token`, over 64 KiB, not `Bearer`), a resource that refuses every token, and a
//! dead authorization server. Each ends in a clear error of the right kind that shows no token,
//! without hanging — or, where the spec allows it, in a working call.

mod support;

use std::time::Duration;

use mcptool::{AuthFailure, ErrorKind, ProtocolEra};
use mcptool_server::{Era, RunningServer};
use serde_json::{Value, json};
use support::oauth_script::{
    Raw, ScriptServer, assert_auth_error, assert_no_secret, browser, client, dead_port, full_text,
    strict_server,
};
use support::within;

const LIMIT: Duration = Duration::from_secs(30);
const PATH_AWARE: &str = "/.well-known/oauth-protected-resource/mcp";
const AS_METADATA: &str = "/.well-known/oauth-authorization-server";

async fn pair() -> (ScriptServer, ScriptServer) {
    let auth = ScriptServer::auth_server().await;
    let rs = ScriptServer::resource_server(&auth.issuer()).await;
    (auth, rs)
}

async fn connect_err(url: &str) -> mcptool::Error {
    client(url, ProtocolEra::Session, browser().oauth())
        .connect()
        .await
        .expect_err("must fail")
}

#[tokio::test]
async fn a_malformed_challenge_still_leads_to_the_well_known_metadata() {
    within(LIMIT, async {
        let broken = [
            "Bearer resource_metadata=\"http://127.0.0.1:1/unterminated",
            "Bearer realm=\"a\", realm=\"b\"",
            "Bearer scope=",
            "Bearer ,=,=",
            "Bearer resource_metadata=\"http://127.0.0.1:1/\u{202e}lmth\"",
        ];
        for challenge in broken {
            let (auth, rs) = pair().await;
            rs.script(|s| s.challenge = Some(challenge.to_owned()));
            let mcp = client(&rs.mcp_url(), ProtocolEra::Session, browser().oauth())
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{challenge:?}: {e}"));
            mcp.close().await.expect("close");
            assert_eq!(rs.paths("GET"), [PATH_AWARE], "{challenge:?}");
            assert!(
                auth.authorizations()[0].param("scope").is_none(),
                "nothing from it"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn malformed_resource_metadata_is_a_clear_error() {
    within(LIMIT, async {
        let bodies: [(&str, &[u8]); 3] = [
            ("application/json", b"{\"resource\": "),
            ("application/json", b"{\"authorization_servers\": []}"),
            ("text/html", b"<html>metadata</html>"),
        ];
        for (content_type, body) in bodies {
            let (auth, rs) = pair().await;
            let raw = Raw::typed(200, content_type, body.to_vec());
            rs.script(|s| s.raw.insert(PATH_AWARE.into(), raw));
            let err = connect_err(&rs.mcp_url()).await;
            assert_auth_error(
                &err,
                AuthFailure::Metadata,
                "protected resource metadata",
                &[],
            );
            assert!(err.to_string().contains("malformed"), "{err}");
            assert!(auth.seen().is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn resource_metadata_without_authorization_servers_is_a_clear_error() {
    within(LIMIT, async {
        for servers in [Value::Null, json!([])] {
            let (auth, rs) = pair().await;
            rs.script(|s| match &servers {
                Value::Null => drop(
                    s.prm
                        .as_object_mut()
                        .expect("object")
                        .remove("authorization_servers"),
                ),
                empty => s.prm["authorization_servers"] = empty.clone(),
            });
            let err = connect_err(&rs.mcp_url()).await;
            assert_auth_error(
                &err,
                AuthFailure::Metadata,
                "names no authorization server",
                &[],
            );
            assert!(auth.seen().is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn malformed_or_failing_authorization_server_metadata_is_a_clear_error() {
    within(LIMIT, async {
        let answers = [
            (
                Raw::typed(200, "application/json", b"{\"issuer\": 7".to_vec()),
                "malformed",
            ),
            (
                Raw::json(200, &json!({"authorization_endpoint": "x"})),
                "malformed",
            ),
            (Raw::typed(500, "text/plain", b"down".to_vec()), "HTTP 500"),
            (
                Raw::typed(200, "application/json", vec![b' '; 70 * 1024]),
                "exceeds the limit",
            ),
        ];
        for (raw, says) in answers {
            let (auth, rs) = pair().await;
            auth.script(|s| s.raw.insert(AS_METADATA.into(), raw));
            let err = connect_err(&rs.mcp_url()).await;
            assert_auth_error(&err, AuthFailure::Metadata, says, &[]);
            assert_eq!(auth.lines(), [format!("GET {AS_METADATA}")], "stops there");
        }
    })
    .await;
}

#[tokio::test]
async fn a_redirect_from_a_metadata_url_is_not_followed() {
    within(LIMIT, async {
        for at in ["resource", "authorization server"] {
            let (auth, rs) = pair().await;
            let target = ScriptServer::documents().await;
            let redirect = Raw::redirect(&target.url("/elsewhere"));
            match at {
                "resource" => rs.script(|s| s.raw.insert(PATH_AWARE.into(), redirect)),
                _ => auth.script(|s| s.raw.insert(AS_METADATA.into(), redirect)),
            };
            let err = connect_err(&rs.mcp_url()).await;
            assert_auth_error(&err, AuthFailure::Metadata, "redirect", &[]);
            assert!(err.to_string().contains("not followed"), "{err}");
            assert!(target.seen().is_empty(), "{at}: the redirect was followed");
        }
    })
    .await;
}

/// The strict server trusting `auth`, whose token endpoint answers as `patch` says.
async fn token_answer(patch: &[(&str, Value)]) -> (ScriptServer, RunningServer, mcptool::Error) {
    let auth = ScriptServer::auth_server().await;
    auth.script(|s| {
        for (k, v) in patch {
            s.token_patch.insert((*k).to_owned(), v.clone());
        }
    });
    let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
    let err = connect_err(&server.url()).await;
    (auth, server, err)
}

#[tokio::test]
async fn a_token_response_without_an_access_token_is_refused() {
    within(LIMIT, async {
        let (auth, server, err) = token_answer(&[("access_token", Value::Null)]).await;
        assert_auth_error(
            &err,
            AuthFailure::Token,
            "not a usable token response",
            &auth.secrets(),
        );
        assert_eq!(server.stats().snapshot().auth_accepted, 0);
    })
    .await;
}

#[tokio::test]
async fn a_token_type_other_than_bearer_is_refused() {
    within(LIMIT, async {
        for token_type in ["mac", "DPoP", "N_A"] {
            let (auth, server, err) = token_answer(&[("token_type", json!(token_type))]).await;
            assert_auth_error(
                &err,
                AuthFailure::Token,
                "not a Bearer token",
                &auth.secrets(),
            );
            assert_eq!(server.stats().snapshot().auth_accepted, 0, "{token_type}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_lowercase_bearer_token_type_is_a_bearer_token() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.token_patch.insert("token_type".into(), json!("bearer")));
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("RFC 6749 token types are case-insensitive");
        mcp.close().await.expect("close");
    })
    .await;
}

#[tokio::test]
async fn a_token_response_over_64_kib_is_an_authorization_error() {
    within(LIMIT, async {
        let padding = json!("x".repeat(70 * 1024));
        let (auth, server, err) = token_answer(&[("padding", padding)]).await;
        assert_eq!(err.kind(), ErrorKind::Authorization, "{err}");
        assert!(
            err.to_string().contains("exceeds the limit of 65536 bytes"),
            "{err}"
        );
        assert_no_secret(&full_text(&err), &auth.secrets());
        assert_eq!(server.stats().snapshot().auth_accepted, 0);
    })
    .await;
}

#[tokio::test]
async fn a_token_response_over_64_kib_is_a_token_failure() {
    within(LIMIT, async {
        let padding = json!("x".repeat(70 * 1024));
        let (auth, _server, err) = token_answer(&[("padding", padding)]).await;
        assert_auth_error(
            &err,
            AuthFailure::Token,
            "exceeds the limit",
            &auth.secrets(),
        );
    })
    .await;
}

#[tokio::test]
async fn a_resource_that_refuses_every_token_ends_in_refused_without_hanging() {
    within(LIMIT, async {
        let (auth, rs) = pair().await;
        rs.script(|s| s.refuse_all = true);
        let attempt = client(&rs.mcp_url(), ProtocolEra::Session, browser().oauth()).connect();
        let err = tokio::time::timeout(Duration::from_secs(15), attempt)
            .await
            .expect("bounded")
            .expect_err("refused");
        assert_auth_error(&err, AuthFailure::Refused, "401 again", &auth.secrets());
        let tries = rs.rs_refusals();
        assert!((1..=3).contains(&tries), "{tries} tokens tried");
        assert!(auth.authorizations().len() <= 2, "{:?}", auth.grants());
    })
    .await;
}

#[tokio::test]
async fn a_dead_authorization_server_is_a_connect_error_without_hanging() {
    within(LIMIT, async {
        let rs = ScriptServer::resource_server(&format!("http://127.0.0.1:{}", dead_port())).await;
        let err = connect_err(&rs.mcp_url()).await;
        assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    })
    .await;
}

/// An authorization server whose token endpoint is on a closed port.
async fn dead_token_endpoint() -> (ScriptServer, ScriptServer) {
    let (auth, rs) = pair().await;
    let dead = format!("http://127.0.0.1:{}/token", dead_port());
    auth.script(|s| s.as_metadata["token_endpoint"] = json!(dead));
    (auth, rs)
}

#[tokio::test]
async fn a_dead_token_endpoint_is_a_connect_error_without_hanging() {
    within(LIMIT, async {
        let (auth, rs) = dead_token_endpoint().await;
        let err = connect_err(&rs.mcp_url()).await;
        assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
        assert!(
            !auth.authorizations().is_empty(),
            "the code was issued, then lost"
        );
    })
    .await;
}

#[tokio::test]
async fn a_dead_token_endpoint_sends_the_user_to_authorize_once() {
    within(LIMIT, async {
        let (auth, rs) = dead_token_endpoint().await;
        let browser = browser();
        let err = client(&rs.mcp_url(), ProtocolEra::Session, browser.oauth())
            .connect()
            .await
            .expect_err("no token endpoint");
        assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
        assert_eq!(
            browser.calls(),
            1,
            "the user is sent to the consent page once"
        );
        assert_eq!(auth.authorizations().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_refused_registration_or_code_exchange_says_what_the_server_said() {
    within(LIMIT, async {
        let (auth, rs) = pair().await;
        let refusal = Raw::json(
            400,
            &json!({"error": "invalid_redirect_uri", "error_description": "nope"}),
        );
        auth.script(|s| s.raw.insert("/register".into(), refusal));
        let err = connect_err(&rs.mcp_url()).await;
        assert_auth_error(
            &err,
            AuthFailure::Registration,
            "invalid_redirect_uri: nope",
            &[],
        );

        let (auth, rs) = pair().await;
        let refusal = Raw::json(
            400,
            &json!({"error": "invalid_grant", "error_description": "stale code"}),
        );
        auth.script(|s| s.raw.insert("/token".into(), refusal));
        let err = connect_err(&rs.mcp_url()).await;
        assert_auth_error(&err, AuthFailure::Token, "invalid_grant: stale code", &[]);
    })
    .await;
}

#[tokio::test]
async fn metadata_urls_without_https_off_loopback_are_refused_unfetched() {
    within(LIMIT, async {
        let named = [
            (
                "challenge",
                "http://mcp.example.com/prm",
                "not a loopback host",
            ),
            ("challenge", "ftp://127.0.0.1/prm", "https is required"),
            ("issuer", "http://auth.example.com", "not a loopback host"),
            ("issuer", "https://user:pw@auth.example.com", "credentials"),
        ];
        for (place, url, says) in named {
            let (auth, rs) = pair().await;
            rs.script(|s| match place {
                "challenge" => s.challenge = Some(format!("Bearer resource_metadata=\"{url}\"")),
                _ => s.prm["authorization_servers"] = json!([url]),
            });
            let err = connect_err(&rs.mcp_url()).await;
            assert_auth_error(&err, AuthFailure::Metadata, says, &["pw".to_owned()]);
            assert!(auth.seen().is_empty(), "{url}");
        }
    })
    .await;
}
