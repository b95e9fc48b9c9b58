//! From a 401 to an authorization server (SPEC_NOTES "Authorization" items 1–4 and 11): the
//! challenge on the first request of each era, the protected resource metadata from each of its
//! three places, its `resource` checked, the authorization server metadata URLs in the spec's
//! order with the exact-`issuer` and PKCE S256 checks, and 2025-03-26 servers without resource
//! metadata. Each test asserts what the scripted servers received and what the caller got.

mod support;

use std::time::Duration;

use mcptool::{AuthFailure, ProtocolEra};
use mcptool_server::Era;
use serde_json::json;
use support::oauth_script::{
    ScriptServer, as_metadata_paths, assert_auth_error, browser, client, strict_server,
};
use support::within;

const LIMIT: Duration = Duration::from_secs(30);

/// Against the strict server in `era`: the first request (`method`) is refused with 401 and no
/// token, the flow runs, the same request is repeated with the issued token and the call works.
async fn first_request_401_then_flow(era: ProtocolEra, method: &str) {
    let auth = ScriptServer::auth_server().await;
    let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
    let browser = browser();
    let mcp = client(&server.url(), era, browser.oauth())
        .connect()
        .await
        .expect("connect");
    let echo = mcp
        .call_tool("echo", json!({"message": "hi"}))
        .await
        .expect("echo");
    assert_eq!(echo.content[0].as_text(), Some("hi"));
    mcp.close().await.expect("close");

    let issued = auth.issued();
    assert_eq!(issued.len(), 1, "one token");
    let posts: Vec<_> = server
        .stats()
        .requests()
        .into_iter()
        .filter(|r| r.http_method == "POST")
        .collect();
    let (first, second) = (&posts[0], &posts[1]);
    assert_eq!((first.status, header(first, "authorization")), (401, None));
    if method == "initialize" {
        // Only initialize goes without a session and without a protocol version header.
        assert_eq!((&first.session_id, &first.protocol_version), (&None, &None));
    } else {
        assert_eq!(header(first, "mcp-method"), Some(method));
    }
    assert_eq!(
        (second.rpc_method.as_deref(), second.status),
        (Some(method), 200)
    );
    let sent = format!("Bearer {}", issued[0].access_token);
    assert_eq!(header(second, "authorization"), Some(sent.as_str()));
    let snap = server.stats().snapshot();
    assert_eq!(
        (
            snap.auth_missing,
            snap.auth_invalid,
            snap.auth_distinct_tokens
        ),
        (1, 0, 1)
    );
    assert_eq!(browser.calls(), 1);
    assert_eq!(auth.grants(), ["authorization_code"]);
    assert_eq!(
        auth.seen()[0].path,
        "/.well-known/oauth-authorization-server"
    );
}

fn header<'a>(record: &'a mcptool_server::RequestRecord, name: &str) -> Option<&'a str> {
    record
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_401_on_initialize_is_answered_by_a_flow_and_the_session_works() {
    within(
        LIMIT,
        first_request_401_then_flow(ProtocolEra::Session, "initialize"),
    )
    .await;
}

#[tokio::test]
async fn a_401_on_server_discover_is_answered_by_a_flow_and_the_stateless_client_works() {
    within(
        LIMIT,
        first_request_401_then_flow(ProtocolEra::Stateless, "server/discover"),
    )
    .await;
}

#[tokio::test]
async fn the_automatic_era_authorizes_on_its_discover_probe() {
    within(
        LIMIT,
        first_request_401_then_flow(ProtocolEra::Auto, "server/discover"),
    )
    .await;
}

/// A scripted resource server whose metadata is only at `path`, and whose challenge is
/// `challenge`; the call must work and the resource server's GETs must be `expected`.
async fn metadata_only_at(path: &str, challenge: &str, expected: &[&str]) {
    let auth = ScriptServer::auth_server().await;
    let rs = ScriptServer::resource_server(&auth.issuer()).await;
    rs.script(|s| {
        s.prm_paths = vec![path.to_owned()];
        s.challenge = Some(challenge.replace("{origin}", &rs.origin()));
    });
    let mcp = client(&rs.mcp_url(), ProtocolEra::Session, browser().oauth())
        .connect()
        .await
        .expect("connect");
    assert_eq!(mcp.list_tools().await.expect("tools")[0].name, "echo");
    mcp.close().await.expect("close");
    let gets: Vec<String> = rs.paths("GET");
    assert_eq!(gets, expected);
    assert_eq!(auth.grants(), ["authorization_code"]);
}

#[tokio::test]
async fn the_resource_metadata_comes_from_the_challenges_url_first() {
    within(
        LIMIT,
        metadata_only_at(
            "/meta/prm",
            "Bearer resource_metadata=\"{origin}/meta/prm\"",
            &["/meta/prm"],
        ),
    )
    .await;
}

#[tokio::test]
async fn without_a_url_in_the_challenge_the_path_aware_well_known_comes_first() {
    let path_aware = "/.well-known/oauth-protected-resource/mcp";
    within(LIMIT, metadata_only_at(path_aware, "Bearer", &[path_aware])).await;
}

#[tokio::test]
async fn then_the_root_well_known() {
    let root = "/.well-known/oauth-protected-resource";
    let expected = ["/.well-known/oauth-protected-resource/mcp", root];
    within(
        LIMIT,
        metadata_only_at(root, "Bearer scope=\"x\"", &expected),
    )
    .await;
}

#[tokio::test]
async fn resource_metadata_for_another_resource_is_refused_before_any_token_request() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let rs = ScriptServer::resource_server(&auth.issuer()).await;
        rs.script(|s| s.prm["resource"] = json!("http://127.0.0.1:1/other"));
        let browser = browser();
        let err = client(&rs.mcp_url(), ProtocolEra::Session, browser.oauth())
            .connect()
            .await
            .expect_err("a mismatched resource");
        assert_auth_error(&err, AuthFailure::Metadata, "http://127.0.0.1:1/other", &[]);
        assert!(err.to_string().contains(&rs.mcp_url()), "names both: {err}");
        assert!(auth.token_requests().is_empty() && auth.authorizations().is_empty());
        assert!(auth.registrations().is_empty());
        assert_eq!(browser.calls(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_path_issuers_metadata_urls_are_tried_in_the_specs_order() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server_at("/t").await;
        let urls = as_metadata_paths("/t");
        auth.script(|s| s.as_metadata_paths = vec![urls[2].clone()]);
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect through /t/.well-known/openid-configuration");
        mcp.close().await.expect("close");
        let gets: Vec<String> = auth.paths("GET");
        assert_eq!(gets[..3], urls[..], "the three URLs, in order");
        assert_eq!(gets[3], "/authorize");
        assert_eq!(
            urls,
            [
                "/.well-known/oauth-authorization-server/t",
                "/.well-known/openid-configuration/t",
                "/t/.well-known/openid-configuration",
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_root_issuers_metadata_urls_are_the_two_root_ones_in_order() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        auth.script(|s| s.as_metadata_paths = vec!["/.well-known/openid-configuration".into()]);
        let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
        let mcp = client(&server.url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect through the OpenID configuration");
        mcp.close().await.expect("close");
        assert_eq!(auth.paths("GET")[..2], as_metadata_paths("")[..]);
    })
    .await;
}

#[tokio::test]
async fn metadata_naming_another_issuer_exactly_is_refused() {
    within(LIMIT, async {
        for other in ["{issuer}/", "{issuer}/t", "HTTP://{host}"] {
            let auth = ScriptServer::auth_server().await;
            let wrong = other
                .replace("{issuer}", &auth.issuer())
                .replace("{host}", &auth.addr.to_string());
            auth.script(|s| s.as_metadata["issuer"] = json!(wrong));
            let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
            let browser = browser();
            let err = client(&server.url(), ProtocolEra::Session, browser.oauth())
                .connect()
                .await
                .expect_err("issuer mismatch");
            assert_auth_error(&err, AuthFailure::Metadata, "names issuer", &[]);
            assert_eq!(browser.calls(), 0);
            assert_eq!(
                auth.lines(),
                ["GET /.well-known/oauth-authorization-server"]
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_authorization_server_without_s256_is_refused_before_any_authorization() {
    within(LIMIT, async {
        for methods in [json!(["plain"]), json!(null)] {
            let auth = ScriptServer::auth_server().await;
            auth.script(|s| {
                let meta = s.as_metadata.as_object_mut().expect("object");
                match &methods {
                    serde_json::Value::Null => meta.remove("code_challenge_methods_supported"),
                    m => meta.insert("code_challenge_methods_supported".into(), m.clone()),
                };
            });
            let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
            let browser = browser();
            let err = client(&server.url(), ProtocolEra::Session, browser.oauth())
                .connect()
                .await
                .expect_err("no S256");
            assert_auth_error(&err, AuthFailure::Metadata, "S256", &[]);
            assert_eq!(browser.calls(), 0);
            assert!(auth.authorizations().is_empty() && auth.registrations().is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn a_2025_03_26_server_is_its_own_authorization_server_with_metadata_at_its_origin() {
    within(LIMIT, async {
        let legacy = ScriptServer::legacy().await;
        let marked = format!("{}/authorize?from=metadata", legacy.origin());
        legacy.script(|s| {
            s.as_metadata_paths = vec!["/.well-known/oauth-authorization-server".into()];
            s.as_metadata["authorization_endpoint"] = json!(marked);
        });
        let mcp = client(&legacy.mcp_url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect");
        assert_eq!(mcp.list_tools().await.expect("tools").len(), 1);
        mcp.close().await.expect("close");
        let lines = legacy.lines();
        let discovery: Vec<&str> = lines.iter().map(String::as_str).skip(1).take(3).collect();
        assert_eq!(
            discovery,
            [
                "GET /.well-known/oauth-protected-resource/mcp",
                "GET /.well-known/oauth-protected-resource",
                "GET /.well-known/oauth-authorization-server",
            ]
        );
        let authorize = &legacy.authorizations()[0];
        assert_eq!(
            authorize.param("from").as_deref(),
            Some("metadata"),
            "its endpoint"
        );
        assert_eq!(legacy.grants(), ["authorization_code"]);
    })
    .await;
}

#[tokio::test]
async fn a_2025_03_26_server_without_any_metadata_gets_the_default_endpoints_at_its_origin() {
    within(LIMIT, async {
        let legacy = ScriptServer::legacy().await;
        legacy.script(|s| s.as_metadata_paths.clear());
        let mcp = client(&legacy.mcp_url(), ProtocolEra::Session, browser().oauth())
            .connect()
            .await
            .expect("connect");
        mcp.close().await.expect("close");
        let oauth: Vec<String> = legacy
            .lines()
            .into_iter()
            .filter(|l| !l.contains("/mcp") && !l.contains("well-known"))
            .collect();
        assert_eq!(oauth, ["POST /register", "GET /authorize", "POST /token"]);
        let authorize = &legacy.authorizations()[0];
        assert_eq!(
            authorize.param("code_challenge_method").as_deref(),
            Some("S256")
        );
        assert_eq!(authorize.param("resource"), Some(legacy.mcp_url()));
    })
    .await;
}

#[tokio::test]
async fn without_oauth_a_401_is_an_error_naming_what_the_server_asks_for() {
    within(LIMIT, async {
        let auth = ScriptServer::auth_server().await;
        let server =
            strict_server(&auth.issuer(), Era::Both, |a| a.required_scope("mcp:tools")).await;
        let err = mcptool::Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect_err("no OAuth configured");
        assert_auth_error(&err, AuthFailure::Required, "\"mcp:tools\"", &[]);
        assert_eq!(err.status(), Some(401));
        let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", server.addr());
        assert!(err.to_string().contains(&metadata), "{err}");
        assert!(
            auth.seen().is_empty(),
            "nothing is discovered without OAuth"
        );
    })
    .await;
}

#[tokio::test]
async fn the_automatic_era_authorizes_once_and_falls_back_to_a_2025_03_26_session() {
    within(LIMIT, async {
        let legacy = ScriptServer::legacy().await;
        let browser = browser();
        let mcp = client(&legacy.mcp_url(), ProtocolEra::Auto, browser.oauth())
            .connect()
            .await
            .expect("connect");
        assert!(mcp.session_id().is_none() && mcp.list_tools().await.is_ok());
        mcp.close().await.expect("close");
        let methods: Vec<String> = legacy
            .mcp_requests()
            .iter()
            .filter_map(|r| r.rpc_method())
            .collect();
        assert_eq!(
            methods[..3],
            ["server/discover", "server/discover", "initialize"]
        );
        assert_eq!((browser.calls(), legacy.grants().len()), (1, 1));
    })
    .await;
}
