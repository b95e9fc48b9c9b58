//! Who the client is to the authorization server (SPEC_NOTES "Authorization" items 5 and 9):
//! a pre-registered client before anything else, a client ID metadata document where the server
//! takes them, dynamic registration as a native client with its loopback redirect, a clear error
//! when there is no way; and token endpoint authentication as registered or advertised
//! (`client_secret_basic`, `client_secret_post`, `none`), asserted on what `/token` received.

mod support;

use std::time::Duration;

use base64::Engine as _;
use mcptool::{AuthFailure, OAuth, ProtocolEra};
use mcptool_server::{Era, RunningServer};
use serde_json::json;
use support::oauth_script::{
    Browser, ClientEntry, REDIRECT_URI, ScriptServer, assert_auth_error, browser, client,
    strict_server,
};
use support::within;

const LIMIT: Duration = Duration::from_secs(30);
const METADATA_URL: &str = "https://client.example/mcptool.json";

/// An authorization server and the strict server trusting it.
async fn servers() -> (ScriptServer, RunningServer) {
    let auth = ScriptServer::auth_server().await;
    let server = strict_server(&auth.issuer(), Era::Both, |a| a).await;
    (auth, server)
}

/// Connects with `oauth`, calls a tool, closes.
async fn run(server: &RunningServer, oauth: OAuth) {
    let mcp = client(&server.url(), ProtocolEra::Session, oauth)
        .connect()
        .await
        .expect("connect");
    mcp.call_tool("echo", json!({"message": "x"}))
        .await
        .expect("echo");
    mcp.close().await.expect("close");
}

fn code_exchange(auth: &ScriptServer) -> support::oauth_script::Seen {
    let token = auth.token_requests();
    assert_eq!(token.len(), 1, "{:?}", auth.lines());
    assert_eq!(
        token[0].form("grant_type").as_deref(),
        Some("authorization_code")
    );
    token[0].clone()
}

#[tokio::test]
async fn a_pre_registered_client_is_used_and_nothing_is_registered() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| s.clients.insert("pre-1".into(), ClientEntry::public()));
        run(&server, browser().oauth().client_id("pre-1")).await;
        assert!(auth.registrations().is_empty(), "{:?}", auth.lines());
        assert_eq!(
            auth.authorizations()[0].param("client_id").as_deref(),
            Some("pre-1")
        );
        let token = code_exchange(&auth);
        assert_eq!(token.form("client_id").as_deref(), Some("pre-1"));
        assert_eq!(
            token.header("authorization"),
            None,
            "none: no client authentication"
        );
        assert_eq!(token.form("client_secret"), None);
    })
    .await;
}

#[tokio::test]
async fn a_client_id_metadata_document_is_the_client_id_where_the_server_takes_them() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| s.as_metadata["client_id_metadata_document_supported"] = json!(true));
        run(&server, browser().oauth().client_metadata_url(METADATA_URL)).await;
        assert!(auth.registrations().is_empty(), "{:?}", auth.lines());
        let authorize = &auth.authorizations()[0];
        assert_eq!(authorize.param("client_id").as_deref(), Some(METADATA_URL));
        let token = code_exchange(&auth);
        assert_eq!(token.form("client_id").as_deref(), Some(METADATA_URL));
        assert_eq!(token.header("authorization"), None);
    })
    .await;
}

#[tokio::test]
async fn a_client_metadata_url_is_not_sent_where_the_server_does_not_take_them() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        run(&server, browser().oauth().client_metadata_url(METADATA_URL)).await;
        let registered = auth.registrations();
        assert_eq!(registered.len(), 1, "dynamic registration instead");
        assert!(auth.seen().iter().all(|s| !s.contains("client.example")));
    })
    .await;
}

#[tokio::test]
async fn dynamic_registration_registers_a_native_client_with_its_loopback_redirect() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        run(&server, browser().oauth().client_name("auth tests")).await;
        let registered = auth.registrations();
        assert_eq!(registered.len(), 1);
        let body = registered[0].json().expect("a JSON registration");
        assert_eq!(
            registered[0].header("content-type"),
            Some("application/json")
        );
        assert_eq!(registered[0].header("authorization"), None);
        assert_eq!(body["application_type"], "native");
        assert_eq!(body["redirect_uris"], json!([REDIRECT_URI]));
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert_eq!(body["client_name"], "auth tests");
        assert!(
            body["grant_types"]
                .as_array()
                .expect("grant types")
                .contains(&json!("authorization_code"))
        );
        let client_id = auth
            .script(|s| s.clients.keys().next().cloned())
            .expect("registered");
        let authorize = &auth.authorizations()[0];
        assert_eq!(authorize.param("client_id"), Some(client_id.clone()));
        assert_eq!(
            authorize.param("redirect_uri").as_deref(),
            Some(REDIRECT_URI)
        );
        assert_eq!(code_exchange(&auth).form("client_id"), Some(client_id));
    })
    .await;
}

#[tokio::test]
async fn without_any_way_to_an_identity_the_error_says_what_to_configure() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| {
            let meta = s.as_metadata.as_object_mut().expect("object");
            meta.remove("registration_endpoint");
        });
        let browser = browser();
        let err = client(&server.url(), ProtocolEra::Session, browser.oauth())
            .connect()
            .await
            .expect_err("no identity");
        assert_auth_error(
            &err,
            AuthFailure::Registration,
            "no registration endpoint",
            &[],
        );
        assert!(
            err.to_string().contains("OAuth::client_id"),
            "what to configure: {err}"
        );
        assert_eq!(browser.calls(), 0);
        let oauth: Vec<String> = auth
            .lines()
            .into_iter()
            .filter(|l| !l.contains("well-known"))
            .collect();
        assert!(oauth.is_empty(), "nothing but metadata: {oauth:?}");
    })
    .await;
}

/// A confidential pre-registered client `conf` with `secret`, registered for `method`.
async fn confidential(method: &str, advertised: Option<&[&str]>, secret: &str) -> ScriptServer {
    let (auth, server) = servers().await;
    auth.script(|s| {
        s.clients
            .insert("conf".into(), ClientEntry::with(method, Some(secret)));
        let meta = s.as_metadata.as_object_mut().expect("object");
        match advertised {
            Some(methods) => meta.insert(
                "token_endpoint_auth_methods_supported".into(),
                json!(methods),
            ),
            None => meta.remove("token_endpoint_auth_methods_supported"),
        };
    });
    let b: Browser = browser();
    run(&server, b.oauth().client_id("conf").client_secret(secret)).await;
    auth
}

fn basic_of(token: &support::oauth_script::Seen) -> String {
    let value = token
        .header("authorization")
        .expect("an Authorization header");
    let encoded = value.strip_prefix("Basic ").expect("Basic");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    String::from_utf8(decoded).expect("utf-8")
}

#[tokio::test]
async fn a_confidential_client_uses_basic_where_it_is_advertised() {
    within(LIMIT, async {
        let methods = ["client_secret_post", "client_secret_basic"];
        let auth = confidential("client_secret_basic", Some(&methods), "s3cret-basic").await;
        let token = code_exchange(&auth);
        assert_eq!(basic_of(&token), "conf:s3cret-basic");
        assert_eq!(
            token.form("client_secret"),
            None,
            "the secret only in the header"
        );
    })
    .await;
}

#[tokio::test]
async fn a_confidential_client_uses_basic_where_nothing_is_advertised() {
    within(LIMIT, async {
        let auth = confidential("client_secret_basic", None, "s3cret-default").await;
        assert_eq!(basic_of(&code_exchange(&auth)), "conf:s3cret-default");
    })
    .await;
}

#[tokio::test]
async fn a_confidential_client_uses_post_where_only_post_is_advertised() {
    within(LIMIT, async {
        let auth = confidential(
            "client_secret_post",
            Some(&["client_secret_post"]),
            "s3cret-post",
        )
        .await;
        let token = code_exchange(&auth);
        assert_eq!(token.header("authorization"), None);
        assert_eq!(token.form("client_id").as_deref(), Some("conf"));
        assert_eq!(token.form("client_secret").as_deref(), Some("s3cret-post"));
    })
    .await;
}

#[tokio::test]
async fn a_registered_client_authenticates_as_its_registration_says() {
    within(LIMIT, async {
        let (auth, server) = servers().await;
        auth.script(|s| s.registered_method = Some("client_secret_post".into()));
        run(&server, browser().oauth()).await;
        let (id, secret) = auth.script(|s| {
            let (id, entry) = s.clients.iter().next().expect("registered");
            (id.clone(), entry.secret.clone().expect("a secret"))
        });
        let token = code_exchange(&auth);
        assert_eq!(token.header("authorization"), None);
        assert_eq!(token.form("client_id"), Some(id));
        assert_eq!(token.form("client_secret"), Some(secret));
    })
    .await;
}

#[tokio::test]
async fn a_refresh_authenticates_as_the_client_was_registered() {
    within(LIMIT, async {
        for pre_registered in [true, false] {
            let (auth, server) = servers().await;
            auth.script(|s| {
                s.expires_in = Some(1);
                s.registered_method = Some("client_secret_post".into());
                s.clients.insert(
                    "conf".into(),
                    ClientEntry::with("client_secret_basic", Some("s3")),
                );
            });
            let oauth = match pre_registered {
                true => browser().oauth().client_id("conf").client_secret("s3"),
                false => browser().oauth(),
            };
            let mcp = client(
                &server.url(),
                ProtocolEra::Session,
                oauth.refresh_margin(Duration::ZERO),
            )
            .connect()
            .await
            .expect("connect");
            tokio::time::sleep(Duration::from_millis(2100)).await;
            mcp.list_tools().await.expect("tools after a refresh");
            mcp.close().await.expect("close");
            let token = auth.token_requests();
            assert_eq!(auth.grants(), ["authorization_code", "refresh_token"]);
            let (code, refresh) = (&token[0], &token[1]);
            assert_eq!(
                code.auth_scheme(),
                refresh.auth_scheme(),
                "pre-registered: {pre_registered}"
            );
            assert_eq!(code.form("client_secret"), refresh.form("client_secret"));
            assert_eq!(
                refresh.auth_scheme().is_some(),
                pre_registered,
                "basic, else post"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_client_metadata_url_that_is_not_https_with_a_path_is_never_the_client_id() {
    within(LIMIT, async {
        for url in [
            "http://client.example/mcptool.json",
            "https://client.example",
        ] {
            let (auth, server) = servers().await;
            auth.script(|s| s.as_metadata["client_id_metadata_document_supported"] = json!(true));
            let built = client(
                &server.url(),
                ProtocolEra::Session,
                browser().oauth().client_metadata_url(url),
            )
            .connect()
            .await;
            if let Ok(mcp) = built {
                mcp.close().await.expect("close");
            }
            assert!(
                auth.seen().iter().all(|s| !s.contains("client.example")),
                "{url} was sent"
            );
        }
    })
    .await;
}
