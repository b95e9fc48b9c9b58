//! The authorization code flow (SPEC_NOTES "Authorization" items 4, 6 and 7): PKCE S256 and
//! `state` on the authorization request, `resource` = the canonical MCP URL on the
//! authorization, token and refresh requests, the redirect's RFC 9207 `iss` and `state` checked
//! before its code or error is believed, and the user's refusal. Each test asserts what the
//! scripted authorization server received and what the caller got.

mod support;

use std::time::Duration;

use mcptool::{AuthFailure, OAuth, ProtocolEra};
use mcptool_server::{Era, RunningServer};
use serde_json::json;
use support::oauth_script::{
    Iss, REDIRECT_URI, ScriptServer, assert_auth_error, browser, client, strict_server,
};
use support::within;

const LIMIT: Duration = Duration::from_secs(30);

async fn servers() -> (ScriptServer, RunningServer) {
    let auth = ScriptServer::auth_server().await;
    let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
    (auth, server)
}

async fn connect_err(server: &RunningServer, oauth: OAuth) -> mcptool::Error {
    client(&server.url(), ProtocolEra::Session, oauth)
        .connect()
        .await
        .expect_err("the flow must fail")
}

#[tokio::test]
async fn the_authorization_request_carries_pkce_s256_and_a_fresh_state() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        for _ in 0..2 {
            let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
                .connect()
                .await
                .expect("connect");
            mcp.close().await.expect("close");
        }
        let authorizations = auth.authorizations();
        let tokens = auth.token_requests();
        assert_eq!((authorizations.len(), tokens.len()), (2, 2));
        for (authorize, token) in authorizations.iter().zip(&tokens) {
            assert_eq!(authorize.param("response_type").as_deref(), Some("code"));
            assert_eq!(
                authorize.param("code_challenge_method").as_deref(),
                Some("S256")
            );
            let challenge = authorize.param("code_challenge").expect("a challenge");
            assert_eq!(challenge.len(), 43, "base64url of a SHA-256");
            let verifier = token.form("code_verifier").expect("a verifier");
            let recomputed = oauth2::PkceCodeChallenge::from_code_verifier_sha256(
                &oauth2::PkceCodeVerifier::new(verifier.clone()),
            );
            assert_eq!(recomputed.as_str(), challenge);
            assert!(
                !authorize.contains(&verifier),
                "the verifier stays with the client"
            );
        }
        let states: Vec<String> = authorizations
            .iter()
            .map(|a| a.param("state").expect("state"))
            .collect();
        assert!(
            states[0].len() >= 16 && states[0] != states[1],
            "{states:?}"
        );
    })
    .await;
}

#[test]
fn the_scripted_server_checks_pkce_with_the_rfc_7636_example() {
    let verifier =
        oauth2::PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
    let challenge = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    assert_eq!(
        challenge.as_str(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

#[tokio::test]
async fn resource_is_the_canonical_mcp_url_on_authorize_token_and_refresh() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.expires_in = Some(1));
        let rs = ScriptServer::resource_server(&auth.issuer()).await;
        let canonical = format!("http://localhost:{}/mcp", rs.addr.port());
        rs.script(|s| {
            s.prm["resource"] = json!(canonical);
            s.resource = canonical.clone();
        });
        let written = format!("HTTP://LOCALHOST:{}/mcp/", rs.addr.port());
        let oauth = browser().oauth().refresh_margin(Duration::ZERO);
        let mcp = client(&written, ProtocolEra::Session, oauth)
            .connect()
            .await
            .expect("connect");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        mcp.list_tools().await.expect("tools after a refresh");
        mcp.close().await.expect("close");
        assert_eq!(auth.grants(), ["authorization_code", "refresh_token"]);
        let authorize = &auth.authorizations()[0];
        assert_eq!(authorize.param("resource"), Some(canonical.clone()));
        for token in auth.token_requests() {
            assert_eq!(token.form("resource"), Some(canonical.clone()), "{token:?}");
        }
        assert!(
            rs.mcp_requests().iter().all(|r| r.path == "/mcp/"),
            "the URL as written"
        );
    })
    .await;
}

#[tokio::test]
async fn a_redirect_without_the_iss_its_server_advertises_is_refused() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| s.iss = Iss::Missing);
        let err = connect_err(&server, browser().oauth()).await;
        assert_auth_error(&err, AuthFailure::Redirect, "lacks the iss parameter", &[]);
        assert!(
            auth.token_requests().is_empty(),
            "the code is not exchanged"
        );
    })
    .await;
}

#[tokio::test]
async fn a_redirect_with_a_wrong_iss_is_refused_and_its_error_not_believed() {
    within(LIMIT, async {
        for (advertised, error) in [(true, true), (false, true), (true, false)] {
            let (auth, server) = servers().await;
            let wrong = format!("{}/", auth.issuer());
            auth.script(|s| {
                s.as_metadata["authorization_response_iss_parameter_supported"] = json!(advertised);
                s.iss = Iss::Value(wrong.clone());
                if error {
                    s.redirect_error = Some(("access_denied".into(), "planted words".into()));
                }
            });
            let err = connect_err(&server, browser().oauth()).await;
            assert_auth_error(&err, AuthFailure::Redirect, "RFC 9207", &[]);
            let text = err.to_string();
            assert!(
                !text.contains("access_denied") && !text.contains("planted"),
                "{text}"
            );
            assert!(auth.token_requests().is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn a_redirect_without_iss_from_a_server_that_does_not_advertise_it_is_accepted() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| {
            s.as_metadata["authorization_response_iss_parameter_supported"] = json!(false);
            s.iss = Iss::Missing;
        });
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect");
        mcp.close().await.expect("close");
        assert_eq!(auth.grants(), ["authorization_code"]);
        assert_eq!(server.stats().snapshot().auth_distinct_tokens, 1);
    })
    .await;
}

#[tokio::test]
async fn a_redirect_with_another_state_is_refused() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| s.state = Some("forged-state".into()));
        let err = connect_err(&server, browser().oauth()).await;
        assert_auth_error(&err, AuthFailure::Redirect, "state", &[]);
        assert!(auth.token_requests().is_empty());
        assert_eq!(server.stats().snapshot().auth_accepted, 0);
    })
    .await;
}

#[tokio::test]
async fn access_denied_on_the_redirect_is_a_denial() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| {
            s.redirect_error = Some(("access_denied".into(), "the user said no".into()))
        });
        let err = connect_err(&server, browser().oauth()).await;
        assert_auth_error(&err, AuthFailure::Denied, "access_denied", &[]);
        assert!(err.to_string().contains("the user said no"), "{err}");
        assert!(auth.token_requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_handler_that_fails_is_a_denial() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        let handler = mcptool::authorization_handler(REDIRECT_URI, |_url| async {
            Err::<String, _>("the user closed the window".to_owned())
        });
        let err = connect_err(&server, OAuth::authorization_code_with(handler)).await;
        assert_auth_error(&err, AuthFailure::Denied, "the user closed the window", &[]);
        assert!(auth.authorizations().is_empty() && auth.token_requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_redirect_that_is_not_a_url_or_has_no_code_is_refused() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        for answer in ["not a url", "http://127.0.0.1:48321/callback?nothing=here"] {
            let handler = mcptool::authorization_handler(REDIRECT_URI, move |_url| async move {
                Ok::<_, String>(answer.to_owned())
            });
            let err = connect_err(&server, OAuth::authorization_code_with(handler)).await;
            assert_eq!(
                err.auth_failure(),
                Some(AuthFailure::Redirect),
                "{answer}: {err}"
            );
        }
        assert!(auth.token_requests().is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_hostile_error_description_is_shown_short_and_without_control_characters() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        let hostile = format!("\u{1b}[31mred\nline{}", "x".repeat(10_000));
        auth.script(|s| s.redirect_error = Some(("access_denied".into(), hostile)));
        let err = connect_err(&server, browser().oauth()).await;
        assert_auth_error(&err, AuthFailure::Denied, "access_denied", &[]);
        let text = err.to_string();
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.len() < 1000, "{} bytes", text.len());
    })
    .await;
}
