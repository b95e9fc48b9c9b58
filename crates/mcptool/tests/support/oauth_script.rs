//! Scripted OAuth servers on 127.0.0.1:0 for the authorization tests: an authorization server
//! (RFC 8414 metadata, `/authorize`, `/token`, `/register`) and a small protected resource
//! (RFC 9728 metadata, a 401 as scripted, a minimal MCP endpoint), in one axum app whose roles
//! the test chooses. Each test sets the behaviour through [`Script`] and asserts on the
//! requests the server recorded ([`Seen`]) and on its open connections.
//!
//! The authorization server is strict where the spec is: PKCE S256 is verified at the code
//! exchange, refresh tokens rotate (the old one dies), client authentication must be the
//! client's registered method (`client_secret_basic`, `client_secret_post`, `none`, or
//! `private_key_jwt` checked against the client's JWKS with `aud` = issuer and `iss` = `sub`).
//! Access tokens are RS256 JWTs signed with `tests/fixtures/as_rs256.pem` (kid `as-rs256`;
//! [`jwks_json`] is its public JWKS), with `aud` = the `resource` asked for, so the strict server
//! can be the resource server too ([`strict_server`]).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mcptool::{AuthorizationHandler, OAuth};
use mcptool_server::{AuthConfig, Era, RunningServer, ServerConfig};
use reqwest::Url;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The kid of the authorization servers' signing key.
pub const AS_KID: &str = "as-rs256";
/// The redirect URI of [`browser`]: a loopback URI nobody listens on (the handler returns the
/// redirect without following it).
pub const REDIRECT_URI: &str = "http://127.0.0.1:48321/callback";
/// `client_assertion_type` of RFC 7523.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// One request a scripted server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The raw query ("" when none).
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The first value of a form body field.
    pub fn form(&self, name: &str) -> Option<String> {
        pairs(&self.body)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn form_pairs(&self) -> Vec<(String, String)> {
        pairs(&self.body)
    }

    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The scheme of the `Authorization` header (`Basic`, `Bearer`), if there is one.
    pub fn auth_scheme(&self) -> Option<String> {
        self.header("authorization")
            .map(|v| v.split(' ').next().unwrap_or_default().to_owned())
    }

    /// The token of an `Authorization: Bearer` header.
    pub fn bearer(&self) -> Option<String> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.to_owned())
    }

    /// Path and query, as in the request line.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The JSON-RPC method of a POSTed body.
    pub fn rpc_method(&self) -> Option<String> {
        self.json()?.get("method")?.as_str().map(str::to_owned)
    }

    /// Whether `needle` appears anywhere in the request: its line, a header, the body.
    pub fn contains(&self, needle: &str) -> bool {
        self.target().contains(needle)
            || self.body.contains(needle)
            || self.headers.iter().any(|(_, v)| v.contains(needle))
    }

    /// The space-separated scopes of the `scope` query parameter (authorize) or form field.
    pub fn scopes(&self) -> Option<Vec<String>> {
        let scope = self.param("scope").or_else(|| self.form("scope"))?;
        Some(scope.split(' ').map(str::to_owned).collect())
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    Url::parse(&format!("http://x/?{text}"))
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A canned answer, served instead of whatever the path would answer.
#[derive(Clone, Debug)]
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn json(status: u16, body: &Value) -> Raw {
        Raw::typed(status, "application/json", body.to_string().into_bytes())
    }

    pub fn typed(status: u16, content_type: &str, body: Vec<u8>) -> Raw {
        Raw {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        }
    }

    pub fn redirect(location: &str) -> Raw {
        Raw {
            status: 302,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

/// A client the authorization server knows.
#[derive(Clone, Debug)]
pub struct ClientEntry {
    /// `none`, `client_secret_basic`, `client_secret_post` or `private_key_jwt`.
    pub auth_method: String,
    pub secret: Option<String>,
    /// The public keys of a `private_key_jwt` client.
    pub jwks: Option<Value>,
    /// Registered redirect URIs; empty: any.
    pub redirect_uris: Vec<String>,
}

impl ClientEntry {
    pub fn public() -> ClientEntry {
        ClientEntry::with("none", None)
    }

    pub fn with(auth_method: &str, secret: Option<&str>) -> ClientEntry {
        ClientEntry {
            auth_method: auth_method.to_owned(),
            secret: secret.map(str::to_owned),
            jwks: None,
            redirect_uris: Vec::new(),
        }
    }

    pub fn key(jwks: Value) -> ClientEntry {
        ClientEntry {
            jwks: Some(jwks),
            ..ClientEntry::with("private_key_jwt", None)
        }
    }
}

/// What the authorization server's redirect carries.
#[derive(Clone, Debug)]
pub enum Iss {
    /// `iss` = the issuer.
    Issuer,
    Missing,
    Value(String),
}

/// The behaviour of a scripted server, changeable while it runs.
#[derive(Debug)]
pub struct Script {
    // ---- authorization server
    /// The metadata document, as served (edit it to leave out or change fields).
    pub as_metadata: Value,
    /// Where it is served (default: the first well-known URL of the issuer).
    pub as_metadata_paths: Vec<String>,
    pub clients: HashMap<String, ClientEntry>,
    pub iss: Iss,
    /// Replaces the redirect's `state`.
    pub state: Option<String>,
    /// An error redirect (`error`, `error_description`) instead of a code.
    pub redirect_error: Option<(String, String)>,
    /// `expires_in` of token responses; `None`: not sent.
    pub expires_in: Option<u64>,
    /// How long the JWT itself is valid (`exp`); default `expires_in`, else an hour.
    pub jwt_lifetime: Option<u64>,
    pub issue_refresh_tokens: bool,
    /// Refresh requests are refused with `invalid_grant`.
    pub refuse_refresh: bool,
    /// Scopes never granted, whatever is asked.
    pub withhold_scopes: Vec<String>,
    /// Fields set in (or, with `null`, removed from) every token response.
    pub token_patch: Map<String, Value>,
    /// The `token_endpoint_auth_method` given to dynamically registered clients (with a secret
    /// for the `client_secret_*` ones); default: what the client asked for.
    pub registered_method: Option<String>,
    // ---- protected resource
    pub prm: Value,
    pub prm_paths: Vec<String>,
    /// `WWW-Authenticate` of a 401; `None`: no header.
    pub challenge: Option<String>,
    pub accept_issuers: Vec<String>,
    /// The `aud` a token must have.
    pub resource: String,
    pub refuse_all: bool,
    pub refused_tokens: HashSet<String>,
    /// A scope every request needs: a token without it gets 403 `insufficient_scope` whose
    /// challenge asks for this scope alone.
    pub forbid_scope: Option<String>,
    // ---- any path
    /// Canned answers by path, before anything else.
    pub raw: HashMap<String, Raw>,
}

/// Tokens one authorization server issued.
#[derive(Clone, Debug)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub client_id: String,
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    resource: Option<String>,
}

#[derive(Debug)]
struct Shared {
    origin: String,
    issuer: String,
    is_as: bool,
    is_rs: bool,
    script: Mutex<Script>,
    seen: Mutex<Vec<Seen>>,
    codes: Mutex<HashMap<String, Grant>>,
    refresh: Mutex<HashMap<String, Grant>>,
    issued: Mutex<Vec<Issued>>,
    counter: AtomicUsize,
    rs_refusals: AtomicUsize,
    open: Arc<AtomicUsize>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// A value unique to this server (its port) and this use.
    fn unique(&self, what: &str) -> String {
        let port = self.origin.rsplit(':').next().unwrap_or_default();
        format!("{what}-{port}-{}", self.next())
    }
}

/// A scripted server: an authorization server, a protected resource, or both on one origin.
#[derive(Debug)]
pub struct ScriptServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptServer {
    /// An authorization server whose issuer is its origin.
    pub async fn auth_server() -> ScriptServer {
        ScriptServer::start(Some(""), None).await
    }

    /// An authorization server whose issuer is its origin followed by `path` (e.g. `/t`).
    pub async fn auth_server_at(path: &str) -> ScriptServer {
        ScriptServer::start(Some(path), None).await
    }

    /// A protected resource at `/mcp` whose metadata names `issuer` and which takes its tokens.
    pub async fn resource_server(issuer: &str) -> ScriptServer {
        ScriptServer::start(None, Some(issuer)).await
    }

    /// A 2025-03-26 server: the resource and its authorization server on one origin, no
    /// protected resource metadata, the authorization server's metadata at the root.
    pub async fn legacy() -> ScriptServer {
        let server = ScriptServer::start(Some(""), Some("")).await;
        let issuer = server.issuer();
        server.script(|s| {
            s.prm_paths.clear();
            s.challenge = Some("Bearer".to_owned());
            s.accept_issuers = vec![issuer];
        });
        server
    }

    /// A server of documents only: `raw` answers, everything else 404.
    pub async fn documents() -> ScriptServer {
        ScriptServer::start(None, None).await
    }

    async fn start(issuer_path: Option<&str>, trusted: Option<&str>) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let origin = format!("http://{addr}");
        let issuer = format!("{origin}{}", issuer_path.unwrap_or_default());
        let resource = format!("{origin}/mcp");
        let prm_path = "/.well-known/oauth-protected-resource/mcp".to_owned();
        let script = Script {
            as_metadata: as_metadata(&origin, &issuer),
            as_metadata_paths: if issuer_path.is_some() {
                vec![as_metadata_paths(issuer_path.unwrap_or_default())[0].clone()]
            } else {
                Vec::new()
            },
            clients: HashMap::new(),
            iss: Iss::Issuer,
            state: None,
            redirect_error: None,
            expires_in: Some(3600),
            jwt_lifetime: None,
            issue_refresh_tokens: true,
            refuse_refresh: false,
            withhold_scopes: Vec::new(),
            token_patch: Map::new(),
            registered_method: None,
            prm: json!({
                "resource": resource,
                "authorization_servers": [trusted.unwrap_or_default()],
                "bearer_methods_supported": ["header"],
            }),
            prm_paths: if trusted.is_some() {
                vec![prm_path.clone()]
            } else {
                Vec::new()
            },
            challenge: Some(format!("Bearer resource_metadata=\"{origin}{prm_path}\"")),
            accept_issuers: trusted.map(str::to_owned).into_iter().collect(),
            resource,
            refuse_all: false,
            refused_tokens: HashSet::new(),
            forbid_scope: None,
            raw: HashMap::new(),
        };
        let open = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            origin,
            issuer,
            is_as: issuer_path.is_some(),
            is_rs: trusted.is_some(),
            script: Mutex::new(script),
            seen: Mutex::new(Vec::new()),
            codes: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
            issued: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            rs_refusals: AtomicUsize::new(0),
            open: Arc::clone(&open),
        });
        let app = Router::new()
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/register", post(register))
            .route("/mcp", any(mcp))
            .route("/mcp/", any(mcp))
            .fallback(document)
            .layer(middleware::from_fn_with_state(Arc::clone(&shared), record))
            .with_state(Arc::clone(&shared));
        let listener = CountingListener {
            inner: listener,
            open,
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ScriptServer { addr, shared, task }
    }

    pub fn origin(&self) -> String {
        self.shared.origin.clone()
    }

    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// The MCP endpoint of the resource role.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.shared.origin)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.origin)
    }

    /// Reads or changes the script.
    pub fn script<T>(&self, f: impl FnOnce(&mut Script) -> T) -> T {
        f(&mut lock(&self.shared.script))
    }

    /// Every request received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.seen).clone()
    }

    /// `METHOD path` of every request, in order.
    pub fn lines(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }

    /// The paths of every `method` request, in order.
    pub fn paths(&self, method: &str) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method)
            .map(|s| s.path)
            .collect()
    }

    pub fn to(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method && s.path == path)
            .collect()
    }

    pub fn authorizations(&self) -> Vec<Seen> {
        self.to("GET", "/authorize")
    }

    pub fn token_requests(&self) -> Vec<Seen> {
        self.to("POST", "/token")
    }

    /// The `grant_type` of every token request, in order.
    pub fn grants(&self) -> Vec<String> {
        self.token_requests()
            .iter()
            .map(|s| s.form("grant_type").unwrap_or_default())
            .collect()
    }

    pub fn registrations(&self) -> Vec<Seen> {
        self.to("POST", "/register")
    }

    /// Requests to the MCP endpoint.
    pub fn mcp_requests(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.starts_with("/mcp"))
            .collect()
    }

    pub fn issued(&self) -> Vec<Issued> {
        lock(&self.shared.issued).clone()
    }

    /// Every access and refresh token issued.
    pub fn secrets(&self) -> Vec<String> {
        self.issued()
            .into_iter()
            .flat_map(|i| std::iter::once(i.access_token).chain(i.refresh_token))
            .collect()
    }

    /// How many requests carrying a token the resource role refused (401 or 403).
    pub fn rs_refusals(&self) -> usize {
        self.shared.rs_refusals.load(Ordering::SeqCst)
    }

    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

/// The well-known URLs of an issuer with path `path`, in the MCP spec's order.
pub fn as_metadata_paths(path: &str) -> Vec<String> {
    if path.is_empty() {
        return vec![
            "/.well-known/oauth-authorization-server".to_owned(),
            "/.well-known/openid-configuration".to_owned(),
        ];
    }
    vec![
        format!("/.well-known/oauth-authorization-server{path}"),
        format!("/.well-known/openid-configuration{path}"),
        format!("{path}/.well-known/openid-configuration"),
    ]
}

fn as_metadata(origin: &str, issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{origin}/authorize"),
        "token_endpoint": format!("{origin}/token"),
        "registration_endpoint": format!("{origin}/register"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported":
            ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"],
        "authorization_response_iss_parameter_supported": true,
    })
}

// ---- recording and canned answers

async fn record(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    lock(&shared.seen).push(seen.clone());
    let canned = lock(&shared.script).raw.get(&seen.path).cloned();
    if let Some(raw) = canned {
        return raw_response(raw);
    }
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(seen);
    next.run(req).await
}

fn raw_response(raw: Raw) -> Response {
    let mut response = Response::new(Body::from(raw.body));
    *response.status_mut() = http::StatusCode::from_u16(raw.status).expect("status");
    for (k, v) in raw.headers {
        response.headers_mut().append(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            http::HeaderValue::from_bytes(v.as_bytes()).expect("value"),
        );
    }
    response
}

fn seen_of(req: &Request) -> Seen {
    req.extensions().get::<Seen>().cloned().expect("recorded")
}

fn json_response(status: u16, body: &Value) -> Response {
    raw_response(Raw::json(status, body))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

async fn document(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let path = seen_of(&req).path;
    let script = lock(&shared.script);
    if shared.is_as && script.as_metadata_paths.contains(&path) {
        return json_response(200, &script.as_metadata);
    }
    if shared.is_rs && script.prm_paths.contains(&path) {
        return json_response(200, &script.prm);
    }
    raw_response(Raw::typed(404, "text/plain", b"not found".to_vec()))
}

// ---- authorization server

async fn authorize(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let seen = seen_of(&req);
    if !shared.is_as {
        return raw_response(Raw::typed(404, "text/plain", Vec::new()));
    }
    let p = |name: &str| seen.param(name).unwrap_or_default();
    let client_id = p("client_id");
    let redirect_uri = p("redirect_uri");
    let script = lock(&shared.script);
    let known = match script.clients.get(&client_id) {
        Some(c) => c.redirect_uris.is_empty() || c.redirect_uris.contains(&redirect_uri),
        None => is_metadata_document_client(&script, &client_id),
    };
    if !known || p("response_type") != "code" || p("code_challenge_method") != "S256" {
        return raw_response(Raw::typed(
            400,
            "text/plain",
            b"bad authorization request".to_vec(),
        ));
    }
    let code = shared.unique("code");
    let grant = Grant {
        client_id,
        redirect_uri: redirect_uri.clone(),
        challenge: p("code_challenge"),
        scopes: granted(&script, seen.param("scope")),
        resource: seen.param("resource"),
    };
    lock(&shared.codes).insert(code.clone(), grant);
    let mut location = Url::parse(&redirect_uri).expect("redirect uri");
    {
        let mut q = location.query_pairs_mut();
        match &script.redirect_error {
            Some((error, description)) => {
                q.append_pair("error", error)
                    .append_pair("error_description", description);
            }
            None => {
                q.append_pair("code", &code);
            }
        }
        q.append_pair("state", script.state.as_deref().unwrap_or(&p("state")));
        match &script.iss {
            Iss::Issuer => {
                q.append_pair("iss", &shared.issuer);
            }
            Iss::Value(v) => {
                q.append_pair("iss", v);
            }
            Iss::Missing => {}
        }
    }
    raw_response(Raw::redirect(location.as_str()))
}

fn is_metadata_document_client(script: &Script, client_id: &str) -> bool {
    script.as_metadata["client_id_metadata_document_supported"] == json!(true)
        && client_id.starts_with("https://")
}

/// The scopes granted for `asked`: what was asked, less the withheld ones.
fn granted(script: &Script, asked: Option<String>) -> Vec<String> {
    asked
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty() && !script.withhold_scopes.iter().any(|w| w == s))
        .map(str::to_owned)
        .collect()
}

async fn token(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let seen = seen_of(&req);
    if !shared.is_as {
        return raw_response(Raw::typed(404, "text/plain", Vec::new()));
    }
    let client_id = match authenticate(&shared, &seen) {
        Ok(id) => id,
        Err(why) => return oauth_error(401, "invalid_client", &why),
    };
    let f = |name: &str| seen.form(name);
    let grant = match f("grant_type").as_deref() {
        Some("authorization_code") => {
            let Some(grant) = lock(&shared.codes).remove(&f("code").unwrap_or_default()) else {
                return oauth_error(400, "invalid_grant", "unknown or used code");
            };
            let verifier = oauth2::PkceCodeVerifier::new(f("code_verifier").unwrap_or_default());
            let challenge = oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
            if grant.client_id != client_id
                || f("redirect_uri").as_deref() != Some(grant.redirect_uri.as_str())
                || challenge.as_str() != grant.challenge
            {
                return oauth_error(400, "invalid_grant", "client, redirect or PKCE mismatch");
            }
            if grant.resource.is_some() && f("resource") != grant.resource {
                return oauth_error(400, "invalid_target", "resource differs from authorize");
            }
            grant
        }
        Some("refresh_token") => {
            if lock(&shared.script).refuse_refresh {
                return oauth_error(400, "invalid_grant", "refresh refused");
            }
            let Some(mut grant) =
                lock(&shared.refresh).remove(&f("refresh_token").unwrap_or_default())
            else {
                return oauth_error(400, "invalid_grant", "unknown or rotated refresh token");
            };
            if grant.client_id != client_id {
                return oauth_error(400, "invalid_grant", "refresh token of another client");
            }
            grant.resource = f("resource").or(grant.resource);
            grant
        }
        Some("client_credentials") => {
            let script = lock(&shared.script);
            if script
                .clients
                .get(&client_id)
                .is_none_or(|c| c.auth_method == "none")
            {
                return oauth_error(400, "unauthorized_client", "public clients cannot");
            }
            Grant {
                client_id,
                redirect_uri: String::new(),
                challenge: String::new(),
                scopes: granted(&script, f("scope")),
                resource: f("resource"),
            }
        }
        _ => return oauth_error(400, "unsupported_grant_type", "unknown grant"),
    };
    issue(
        &shared,
        grant,
        f("grant_type").as_deref() != Some("client_credentials"),
    )
}

fn issue(shared: &Shared, grant: Grant, may_refresh: bool) -> Response {
    let script = lock(&shared.script);
    let now = now_secs();
    let lifetime = script.jwt_lifetime.or(script.expires_in).unwrap_or(3600);
    let mut claims = json!({
        "iss": shared.issuer,
        "sub": grant.client_id,
        "client_id": grant.client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": shared.unique("jti"),
        "scope": grant.scopes.join(" "),
    });
    if let Some(resource) = &grant.resource {
        claims["aud"] = json!(resource);
    }
    let access_token = sign(&claims);
    let refresh_token = (may_refresh && script.issue_refresh_tokens).then(|| shared.unique("rt"));
    let mut body = json!({"access_token": access_token, "token_type": "Bearer"});
    if let Some(expires_in) = script.expires_in {
        body["expires_in"] = json!(expires_in);
    }
    if !grant.scopes.is_empty() {
        body["scope"] = json!(grant.scopes.join(" "));
    }
    if let Some(rt) = &refresh_token {
        body["refresh_token"] = json!(rt);
        lock(&shared.refresh).insert(rt.clone(), grant.clone());
    }
    for (k, v) in &script.token_patch {
        match v {
            Value::Null => {
                body.as_object_mut().expect("object").remove(k);
            }
            v => body[k] = v.clone(),
        }
    }
    lock(&shared.issued).push(Issued {
        access_token: body["access_token"].as_str().unwrap_or_default().to_owned(),
        refresh_token,
        client_id: grant.client_id,
        scopes: grant.scopes,
    });
    json_response(200, &body)
}

/// Who the token request comes from, authenticated as its client registered: the client id.
fn authenticate(shared: &Shared, seen: &Seen) -> Result<String, String> {
    let script = lock(&shared.script);
    let (client_id, method) = if let Some(basic) = seen.header("authorization") {
        let encoded = basic.strip_prefix("Basic ").ok_or("not Basic")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| "bad base64")?;
        let decoded = String::from_utf8(decoded).map_err(|_| "not UTF-8")?;
        let (id, secret) = decoded.split_once(':').ok_or("no colon")?;
        let (id, secret) = (form_decode(id), form_decode(secret));
        let entry = script.clients.get(&id).ok_or("unknown client")?;
        if entry.secret.as_deref() != Some(secret.as_str()) {
            return Err("wrong secret".into());
        }
        (id, "client_secret_basic")
    } else if let Some(assertion) = seen.form("client_assertion") {
        if seen.form("client_assertion_type").as_deref() != Some(JWT_BEARER) {
            return Err("wrong client_assertion_type".into());
        }
        (
            verify_assertion(&script, &shared.issuer, &assertion)?,
            "private_key_jwt",
        )
    } else if let Some(secret) = seen.form("client_secret") {
        let id = seen.form("client_id").ok_or("no client_id")?;
        let entry = script.clients.get(&id).ok_or("unknown client")?;
        if entry.secret.as_deref() != Some(secret.as_str()) {
            return Err("wrong secret".into());
        }
        (id, "client_secret_post")
    } else {
        let id = seen.form("client_id").ok_or("no client_id")?;
        if is_metadata_document_client(&script, &id) {
            return Ok(id);
        }
        (id, "none")
    };
    match script.clients.get(&client_id) {
        Some(entry) if entry.auth_method == method => Ok(client_id),
        Some(entry) => Err(format!(
            "client registered for {}, used {method}",
            entry.auth_method
        )),
        None => Err("unknown client".into()),
    }
}

fn form_decode(text: &str) -> String {
    pairs(&format!("v={text}"))
        .pop()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

/// The client id of a valid RFC 7523 client assertion: signed by a key of the client's JWKS,
/// `iss` = `sub` = the client id, `aud` = the issuer, in date.
fn verify_assertion(script: &Script, issuer: &str, assertion: &str) -> Result<String, String> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("assertion without kid")?;
    for (id, entry) in &script.clients {
        let Some(jwks) = &entry.jwks else { continue };
        let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())?;
        let Some(jwk) = set.find(&kid) else { continue };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[issuer]);
        validation.set_issuer(&[id]);
        validation.sub = Some(id.clone());
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        jsonwebtoken::decode::<Value>(assertion, &key, &validation)
            .map_err(|e| format!("assertion refused: {e}"))?;
        return Ok(id.clone());
    }
    Err(format!("no client has the key {kid}"))
}

async fn register(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let seen = seen_of(&req);
    let enabled = shared.is_as
        && lock(&shared.script)
            .as_metadata
            .get("registration_endpoint")
            .is_some();
    let Some(body) = seen.json().filter(|_| enabled) else {
        return oauth_error(400, "invalid_client_metadata", "not JSON or not enabled");
    };
    let redirect_uris: Vec<String> = body["redirect_uris"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut script = lock(&shared.script);
    let method = script
        .registered_method
        .clone()
        .or_else(|| {
            body["token_endpoint_auth_method"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "client_secret_basic".to_owned());
    let secret = method
        .starts_with("client_secret")
        .then(|| shared.unique("secret"));
    let client_id = shared.unique("client");
    script.clients.insert(
        client_id.clone(),
        ClientEntry {
            auth_method: method.clone(),
            secret: secret.clone(),
            jwks: None,
            redirect_uris: redirect_uris.clone(),
        },
    );
    let mut answer = json!({
        "client_id": client_id,
        "client_id_issued_at": now_secs(),
        "redirect_uris": redirect_uris,
        "token_endpoint_auth_method": method,
        "grant_types": body["grant_types"],
    });
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret);
        answer["client_secret_expires_at"] = json!(0);
    }
    json_response(201, &answer)
}

// ---- protected resource

async fn mcp(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let seen = seen_of(&req);
    if !shared.is_rs {
        return raw_response(Raw::typed(404, "text/plain", Vec::new()));
    }
    let (challenge, forbid, refused) = {
        let script = lock(&shared.script);
        let refused = seen.bearer().map(|token| {
            script.refuse_all
                || script.refused_tokens.contains(&token)
                || !valid_token(&script, &token)
        });
        (
            script.challenge.clone(),
            script.forbid_scope.clone(),
            refused,
        )
    };
    match refused {
        None | Some(true) => {
            if refused.is_some() {
                shared.rs_refusals.fetch_add(1, Ordering::SeqCst);
            }
            let mut raw = Raw::json(
                401,
                &json!({"jsonrpc": "2.0", "id": null,
                "error": {"code": -32000, "message": "Unauthorized"}}),
            );
            if let Some(challenge) = challenge {
                raw.headers.push(("www-authenticate".into(), challenge));
            }
            return raw_response(raw);
        }
        Some(false) => {}
    }
    let granted = seen.bearer().map(|t| {
        claims_of(&t)["scope"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    if let Some(scope) = forbid.filter(|f| !granted.unwrap_or_default().split(' ').any(|g| g == f))
    {
        shared.rs_refusals.fetch_add(1, Ordering::SeqCst);
        let mut raw = Raw::json(
            403,
            &json!({"jsonrpc": "2.0", "id": null,
            "error": {"code": -32000, "message": "Forbidden"}}),
        );
        let prm = format!("{}/.well-known/oauth-protected-resource/mcp", shared.origin);
        raw.headers.push((
            "www-authenticate".into(),
            format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\", resource_metadata=\"{prm}\""),
        ));
        return raw_response(raw);
    }
    answer_mcp(&seen)
}

fn valid_token(script: &Script, token: &str) -> bool {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&script.resource]);
    validation.set_issuer(&script.accept_issuers);
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(token, &as_key().1, &validation).is_ok()
}

/// Just enough MCP (session era, JSON answers, no session id): `initialize`, `initialized`,
/// `tools/list`, `tools/call`, `ping`; `server/discover` is 404 so that a client falls back.
fn answer_mcp(seen: &Seen) -> Response {
    if seen.method != "POST" {
        return raw_response(Raw::typed(405, "text/plain", Vec::new()));
    }
    let Some(message) = seen.json() else {
        return raw_response(Raw::typed(400, "text/plain", b"not JSON".to_vec()));
    };
    let id = message["id"].clone();
    let result = match message["method"].as_str().unwrap_or_default() {
        "initialize" => json!({
            "protocolVersion": "2025-11-25",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "scripted", "version": "0.0.1"},
        }),
        "tools/list" => json!({"tools": [{"name": "echo", "description": "Echo a message",
            "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}}}]}),
        "tools/call" => json!({"content": [{"type": "text",
            "text": message["params"]["arguments"]["message"].as_str().unwrap_or("scripted")}]}),
        "ping" => json!({}),
        "server/discover" => return raw_response(Raw::typed(404, "text/plain", Vec::new())),
        _ if id.is_null() => return raw_response(Raw::typed(202, "text/plain", Vec::new())),
        _ => {
            return json_response(
                200,
                &json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": "Method not found"}}),
            );
        }
    };
    json_response(200, &json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

// ---- keys and tokens

fn as_key() -> &'static (EncodingKey, DecodingKey, Value) {
    static KEY: OnceLock<(EncodingKey, DecodingKey, Value)> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = std::fs::read(fixture("as_rs256.pem")).expect("as key");
        let encoding = EncodingKey::from_rsa_pem(&pem).expect("rsa pem");
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("jwk");
        jwk.common.key_id = Some(AS_KID.to_owned());
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk).expect("decoding key");
        (
            encoding,
            decoding,
            serde_json::to_value(jwk).expect("jwk json"),
        )
    })
}

fn sign(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(AS_KID.to_owned());
    jsonwebtoken::encode(&header, claims, &as_key().0).expect("sign")
}

/// The public JWKS of the authorization servers' key, for `AuthConfig::jwks`.
pub fn jwks_json() -> String {
    json!({"keys": [as_key().2]}).to_string()
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The claims of a JWT, unverified (to look at what a client signed).
pub fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("b64");
    serde_json::from_slice(&bytes).expect("claims")
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The strict server as the protected resource, trusting `issuer`'s tokens.
pub async fn strict_server(
    issuer: &str,
    era: Era,
    configure: impl FnOnce(AuthConfig) -> AuthConfig,
) -> RunningServer {
    let auth = configure(AuthConfig::new(issuer).jwks(jwks_json()));
    super::server::start(ServerConfig::default().era(era).auth(auth)).await
}

/// A port nothing listens on.
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

// ---- the user's part

/// An authorization handler that GETs the authorization URL (on a connection it closes) and
/// returns the authorization server's redirect without following it; counts its uses.
#[derive(Clone, Debug)]
pub struct Browser {
    calls: Arc<AtomicUsize>,
    handler: Arc<dyn AuthorizationHandler>,
}

pub fn browser() -> Browser {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let handler = mcptool::authorization_handler(REDIRECT_URI, move |url: String| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let response = super::peers::raw_http()
                .get(&url)
                .header("connection", "close")
                .send()
                .await
                .map_err(|e| format!("GET authorize: {e}"))?;
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok());
            match location {
                Some(location) if status.is_redirection() => Ok(location.to_owned()),
                _ => Err(format!("the authorization server answered {status}")),
            }
        }
    });
    Browser { calls, handler }
}

impl Browser {
    /// The authorization code grant through this browser.
    pub fn oauth(&self) -> OAuth {
        OAuth::authorization_code_with(Arc::clone(&self.handler))
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

// ---- connection counting

struct CountingListener {
    inner: TcpListener,
    open: Arc<AtomicUsize>,
}

impl axum::serve::Listener for CountingListener {
    type Io = CountedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CountedStream, SocketAddr) {
        loop {
            if let Ok((stream, addr)) = self.inner.accept().await {
                let _ = stream.set_nodelay(true);
                self.open.fetch_add(1, Ordering::SeqCst);
                let open = Arc::clone(&self.open);
                return (CountedStream { stream, open }, addr);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An accepted connection, counted open until it drops.
struct CountedStream {
    stream: TcpStream,
    open: Arc<AtomicUsize>,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

// ---- what the caller got

/// A client of `url` in `era` with `oauth`, with deadlines that keep a hang from stalling a test.
pub fn client(url: &str, era: mcptool::ProtocolEra, oauth: OAuth) -> mcptool::ClientBuilder {
    mcptool::Client::builder(url)
        .protocol_era(era)
        .oauth(oauth)
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(15))
}

/// Display, Debug and every source of `err`, for searching.
pub fn full_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{err} {err:?}");
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!(" | {cause} {cause:?}"));
        source = cause.source();
    }
    text
}

/// Fails if `text` shows any of `secrets`.
pub fn assert_no_secret(text: &str, secrets: &[String]) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(!text.contains(secret.as_str()), "a secret shows in: {text}");
    }
}

/// Asserts an authorization error of `what` whose message says `says`, showing no secret.
pub fn assert_auth_error(
    err: &mcptool::Error,
    what: mcptool::AuthFailure,
    says: &str,
    secrets: &[String],
) {
    assert_eq!(err.kind(), mcptool::ErrorKind::Authorization, "{err}");
    assert_eq!(err.auth_failure(), Some(what), "{err}");
    let text = err.to_string();
    assert!(text.contains(says), "`{text}` should say `{says}`");
    assert_no_secret(&full_text(err), secrets);
}
