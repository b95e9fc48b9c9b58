//! Unit tests of metadata locations and checks.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The URLs `locate` gives for `from`, as strings.
fn located(locate: fn(&Url) -> Vec<Url>, from: &str) -> Vec<String> {
    locate(&url(from)).into_iter().map(String::from).collect()
}

fn resource(value: &str) -> ResourceMetadata {
    serde_json::from_value(json!({"resource": value})).expect("valid resource metadata")
}

fn server(document: Value) -> ServerMetadata {
    serde_json::from_value(document).expect("valid server metadata")
}

#[test]
fn canonical_resources_lowercase_drop_default_ports_trailing_slashes_and_fragments() {
    for (input, expected) in [
        ("HTTPS://Example.COM:443/mcp/", "https://example.com/mcp"),
        ("https://mcp.example.com/", "https://mcp.example.com"),
        ("https://mcp.example.com", "https://mcp.example.com"),
        ("https://a.example:8443", "https://a.example:8443"),
        ("http://example.com:80/mcp", "http://example.com/mcp"),
        ("http://example.com:443/mcp", "http://example.com:443/mcp"),
        ("https://example.com:80/mcp", "https://example.com:80/mcp"),
        (
            "https://a.example/server/mcp//",
            "https://a.example/server/mcp",
        ),
        ("https://a.example/Mcp", "https://a.example/Mcp"),
        ("https://a.example/m/?t=T#frag", "https://a.example/m?t=T"),
        ("https://a.example/#frag", "https://a.example"),
        ("https://user:pw@a.example/mcp", "https://a.example/mcp"),
        ("http://[::1]:8080/mcp", "http://[::1]:8080/mcp"),
        ("https://[2001:DB8::1]:443/mcp", "https://[2001:db8::1]/mcp"),
        ("http://127.0.0.1:3000/", "http://127.0.0.1:3000"),
    ] {
        let canonical = canonical_resource(&url(input));
        assert_eq!(canonical, expected, "{input}");
        assert_eq!(canonical_resource(&url(&canonical)), canonical);
    }
}

#[test]
fn resource_metadata_is_looked_up_at_the_path_then_at_the_root() {
    assert_eq!(
        located(resource_metadata_urls, "https://example.com/public/mcp"),
        [
            "https://example.com/.well-known/oauth-protected-resource/public/mcp",
            "https://example.com/.well-known/oauth-protected-resource",
        ]
    );
    assert_eq!(
        located(resource_metadata_urls, "http://u:p@[::1]:8080/mcp?x=1#f"),
        [
            "http://[::1]:8080/.well-known/oauth-protected-resource/mcp",
            "http://[::1]:8080/.well-known/oauth-protected-resource",
        ]
    );
}

#[test]
fn an_mcp_server_at_the_root_has_only_the_root_metadata_url() {
    for (mcp, expected) in [
        ("https://a.example", "https://a.example"),
        ("https://a.example/", "https://a.example"),
        ("https://a.example:8443/?q", "https://a.example:8443"),
    ] {
        let expected = format!("{expected}/.well-known/oauth-protected-resource");
        assert_eq!(located(resource_metadata_urls, mcp), [expected], "{mcp}");
    }
}

#[test]
fn issuers_with_a_path_have_three_metadata_urls_in_the_spec_order() {
    assert_eq!(
        located(server_metadata_urls, "https://auth.example.com/tenant1?q=1"),
        [
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
            "https://auth.example.com/tenant1/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn a_trailing_slash_of_an_issuer_path_is_not_doubled() {
    assert_eq!(
        located(server_metadata_urls, "https://as.example:8443/realms/a/"),
        [
            "https://as.example:8443/.well-known/oauth-authorization-server/realms/a/",
            "https://as.example:8443/.well-known/openid-configuration/realms/a/",
            "https://as.example:8443/realms/a/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn issuers_without_a_path_have_two_metadata_urls() {
    for (issuer, origin) in [
        ("https://auth.example.com", "https://auth.example.com"),
        ("https://auth.example.com/", "https://auth.example.com"),
        ("http://[::1]:9000/?q=1", "http://[::1]:9000"),
    ] {
        let expected = ["oauth-authorization-server", "openid-configuration"]
            .map(|suffix| format!("{origin}/.well-known/{suffix}"));
        assert_eq!(located(server_metadata_urls, issuer), expected, "{issuer}");
    }
}

#[test]
fn a_resource_equal_to_the_canonical_mcp_url_is_accepted_in_canonical_form() {
    let mcp = url("https://mcp.example.com/mcp");
    for declared in [
        "https://mcp.example.com/mcp",
        "https://mcp.example.com/mcp/",
        "HTTPS://MCP.Example.com:443/mcp",
    ] {
        let checked = check_resource(&resource(declared), &mcp);
        assert_eq!(checked.as_deref(), Ok("https://mcp.example.com/mcp"));
    }
    let with_query = url("https://mcp.example.com/mcp?tenant=a");
    let declared = resource("https://mcp.example.com/mcp?tenant=a");
    assert!(check_resource(&declared, &with_query).is_ok());
}

#[test]
fn a_same_origin_parent_resource_is_accepted_at_segment_boundaries_only() {
    let mcp = url("https://a.example:8443/api/v1/mcp/");
    for (declared, expected) in [
        ("https://a.example:8443", "https://a.example:8443"),
        ("https://a.example:8443/", "https://a.example:8443"),
        ("https://a.example:8443/api", "https://a.example:8443/api"),
        (
            "https://A.example:8443/api/v1/",
            "https://a.example:8443/api/v1",
        ),
    ] {
        let checked = check_resource(&resource(declared), &mcp);
        assert_eq!(checked.as_deref(), Ok(expected), "{declared}");
    }
    let mcpx = url("https://a.example/mcpx");
    assert!(check_resource(&resource("https://a.example/mcp"), &mcpx).is_err());
    let mcp = url("https://a.example/mcp");
    assert!(check_resource(&resource("https://a.example/mcp/extra"), &mcp).is_err());
    assert!(check_resource(&resource("https://a.example/?q=1"), &mcp).is_err());
}

#[test]
fn a_resource_of_another_origin_scheme_or_port_is_refused_naming_both() {
    let mcp = url("https://mcp.example.com/mcp");
    for declared in [
        "https://other.example.com/mcp",
        "https://evil.mcp.example.com/mcp",
        "http://mcp.example.com/mcp",
        "https://mcp.example.com:8443/mcp",
        "https://mcp.example.com/mcp#fragment",
        "mcp.example.com/mcp",
        "urn:example:mcp",
        "",
    ] {
        let err = check_resource(&resource(declared), &mcp).expect_err(declared);
        assert!(err.contains("`https://mcp.example.com/mcp`"), "{err}");
        assert!(err.contains(&format!("`{declared}`")), "{err}");
    }
    let err = check_resource(&resource("https://x.example/\u{1b}[31m"), &mcp).expect_err("other");
    assert!(
        err.contains("x.example/?[31m") && !err.contains('\u{1b}'),
        "{err}"
    );
}

#[test]
fn the_issuer_must_match_exactly() {
    let meta = server(json!({"issuer": "https://honest.example"}));
    assert_eq!(check_issuer(&meta, "https://honest.example"), Ok(()));
    for looked_up in [
        "https://attacker.example",
        "https://honest.example/",
        "https://Honest.example",
        "HTTPS://honest.example",
        "https://honest.example:443",
    ] {
        let err = check_issuer(&meta, looked_up).expect_err(looked_up);
        let names_both = err.contains(looked_up) && err.contains("`https://honest.example`");
        assert!(names_both, "{err}");
    }
    let slashed = server(json!({"issuer": "https://auth.example.com/tenant1/"}));
    assert!(check_issuer(&slashed, "https://auth.example.com/tenant1").is_err());
}

#[test]
fn pkce_s256_is_required_unless_the_metadata_is_the_default() {
    let with = |methods: Value| {
        server(json!({"issuer": "https://as.example", "code_challenge_methods_supported": methods}))
    };
    assert_eq!(check_pkce(&with(json!(["plain", "S256"]))), Ok(()));
    let err = check_pkce(&with(json!(["plain"]))).expect_err("plain only");
    assert!(err.contains("S256") && err.contains("plain"), "{err}");
    assert!(check_pkce(&with(json!([]))).is_err());
    assert!(check_pkce(&with(json!(["s256"]))).is_err());
    let err = check_pkce(&server(json!({"issuer": "https://as.example"}))).expect_err("absent");
    assert!(err.contains("does not advertise PKCE"), "{err}");
    let defaults = default_server_metadata(&url("https://a.example/mcp"));
    assert_eq!(check_pkce(&defaults), Ok(()));
}

#[test]
fn endpoints_are_https_or_http_on_loopback_without_credentials_or_fragment() {
    for ok in [
        "https://as.example/token",
        "https://as.example:8443/t?x=1",
        "http://127.0.0.1:9000/token",
        "http://127.0.0.5/token",
        "http://127.255.255.254",
        "http://[::1]:8080/token",
        "http://localhost:3000/cb",
        "http://LOCALHOST/x",
    ] {
        let checked = check_endpoint(ok, "the token endpoint").map(String::from);
        assert_eq!(checked, Ok(url(ok).to_string()), "{ok}");
    }
    for (refused, why) in [
        ("http://as.example/token", "loopback"),
        ("http://localhost.evil.com/token", "loopback"),
        ("http://128.0.0.1/token", "loopback"),
        ("http://[::2]/token", "loopback"),
        ("http://[::ffff:8.8.8.8]/token", "loopback"),
        ("ftp://as.example/token", "scheme `ftp`"),
        ("file:///etc/passwd", "scheme `file`"),
        ("https://as.example/token#frag", "fragment"),
        ("as.example/token", "not a valid URL"),
        ("https://user:hunter2@as.example/t", "credentials"),
        ("https://hunter2@as.example/", "credentials"),
    ] {
        let err = check_endpoint(refused, "the token endpoint").expect_err(refused);
        assert!(err.starts_with("the token endpoint "), "{err}");
        assert!(
            err.contains(why) && !err.contains("hunter2"),
            "{refused}: {err}"
        );
    }
}

#[test]
fn default_metadata_is_at_the_mcp_servers_origin() {
    let meta = default_server_metadata(&url("https://api.example.com/v1/mcp?x=1"));
    let at = |path: &str| Some(format!("https://api.example.com/{path}"));
    assert_eq!(meta.issuer, "https://api.example.com");
    assert_eq!(meta.authorization_endpoint, at("authorize"));
    assert_eq!(meta.token_endpoint, at("token"));
    assert_eq!(meta.registration_endpoint, at("register"));
    assert!(meta.defaults && meta.code_challenge_methods_supported.is_none());
    let local = default_server_metadata(&url("http://[::1]:8080/mcp")).token_endpoint;
    assert_eq!(local, Some("http://[::1]:8080/token".to_owned()));
}

#[test]
fn legacy_metadata_is_at_the_origin_without_the_path() {
    for (mcp, expected) in [
        (
            "https://u:p@a.example:8443/v1/mcp?x=1#f",
            "https://a.example:8443",
        ),
        ("http://example.com:80/", "http://example.com"),
    ] {
        let at = legacy_server_metadata_url(&url(mcp));
        let expected = format!("{expected}/.well-known/oauth-authorization-server");
        assert_eq!(at.as_str(), expected);
    }
}

#[test]
fn resource_metadata_deserialises_with_defaults_and_ignores_unknown_fields() {
    let meta: ResourceMetadata = serde_json::from_value(json!({
        "resource": "https://mcp.example.com/mcp",
        "authorization_servers": ["https://as.example"],
        "scopes_supported": ["files:read"],
        "bearer_methods_supported": ["header"],
        "resource_name": {"nested": true},
    }))
    .expect("valid");
    assert_eq!(meta.authorization_servers, ["https://as.example"]);
    assert_eq!(meta.scopes_supported, Some(vec!["files:read".to_owned()]));
    let minimal = resource("https://mcp.example.com");
    assert!(minimal.authorization_servers.is_empty());
    assert_eq!(minimal.scopes_supported, None);
}

#[test]
fn server_metadata_deserialises_the_fields_the_client_uses() {
    let meta = server(json!({
        "issuer": "https://server.example.com",
        "authorization_endpoint": "https://server.example.com/authorize",
        "token_endpoint": "https://server.example.com/token",
        "registration_endpoint": "https://server.example.com/register",
        "scopes_supported": ["openid", "offline_access"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "defaults": true,
    }));
    assert_eq!(
        meta.token_endpoint.as_deref(),
        Some("https://server.example.com/token")
    );
    assert!(meta.authorization_response_iss_parameter_supported);
    assert!(meta.client_id_metadata_document_supported);
    assert!(!meta.defaults, "a document cannot claim to be the defaults");
    let minimal = server(json!({"issuer": "https://as.example"}));
    assert_eq!(minimal.authorization_endpoint, None);
    assert_eq!(minimal.grant_types_supported, None);
    assert!(!minimal.authorization_response_iss_parameter_supported);
}

/// Whether `document` is refused as a `T`.
fn refused<T: DeserializeOwned>(document: &Value) -> bool {
    serde_json::from_value::<T>(document.clone()).is_err()
}

#[test]
fn metadata_of_the_wrong_shape_is_a_deserialise_error() {
    for document in [
        json!({}),
        json!({"resource": 7}),
        json!({"resource": "https://a", "authorization_servers": "https://as"}),
        json!({"resource": "https://a", "authorization_servers": [1]}),
        json!({"resource": "https://a", "scopes_supported": "a b"}),
        json!("https://a"),
    ] {
        assert!(refused::<ResourceMetadata>(&document), "{document}");
    }
    for document in [
        json!({"token_endpoint": "https://as/token"}),
        json!({"issuer": ["https://as"]}),
        json!({"issuer": "https://as", "token_endpoint": 5}),
        json!({"issuer": "https://as", "code_challenge_methods_supported": "S256"}),
        json!({"issuer": "https://as", "authorization_response_iss_parameter_supported": "true"}),
        json!({"issuer": "https://as", "client_id_metadata_document_supported": 1}),
    ] {
        assert!(refused::<ServerMetadata>(&document), "{document}");
    }
}

#[test]
fn listed_scopes_are_matched_exactly() {
    let meta = server(json!({"issuer": "https://as", "scopes_supported": ["offline_access", "a"]}));
    assert!(meta.lists_scope("offline_access"));
    assert!(!meta.lists_scope("Offline_Access"));
    assert!(!meta.lists_scope("b"));
    assert!(!server(json!({"issuer": "https://as"})).lists_scope("offline_access"));
}

#[test]
fn the_token_auth_method_follows_registration_then_advertisement() {
    let advertising = |methods: Value| {
        server(json!({"issuer": "https://as", "token_endpoint_auth_methods_supported": methods}))
    };
    let nothing = server(json!({"issuer": "https://as"}));
    let post = advertising(json!(["client_secret_post", "none"]));
    let both = advertising(json!(["client_secret_post", "client_secret_basic"]));
    let neither = advertising(json!(["private_key_jwt"]));
    let basic = "client_secret_basic";
    for (meta, registered, secret, expected) in [
        (&post, Some(basic), true, basic),
        (
            &nothing,
            Some("client_secret_post"),
            false,
            "client_secret_post",
        ),
        (&nothing, Some("private_key_jwt"), true, "private_key_jwt"),
        (&nothing, None, true, basic),
        (&post, None, true, "client_secret_post"),
        (&both, None, true, basic),
        (&neither, None, true, basic),
        (&both, Some(""), true, basic),
        (&nothing, None, false, "none"),
        (&post, None, false, "none"),
        (&both, None, false, "none"),
        (&neither, None, false, "none"),
    ] {
        let method = meta.token_auth_method(registered, secret);
        assert_eq!(method, expected, "{registered:?} {secret}");
    }
}
