//! Authorization helpers: test keys (`tests/fixtures/*.pem`), signed tokens, and a small
//! issuer on 127.0.0.1:0 that serves its metadata and a JWKS it can rotate and counts fetches of.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use http::header;
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::TestServer;

/// A signing key of the tests and its public JWK.
#[derive(Clone)]
pub(crate) struct TestKey {
    pub(crate) kid: String,
    pub(crate) alg: Algorithm,
    encoding: EncodingKey,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey").field("kid", &self.kid).finish()
    }
}

impl TestKey {
    fn load(file: &str, kid: &str, alg: Algorithm) -> Self {
        let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
        let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let encoding = match alg {
            Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
            _ => EncodingKey::from_rsa_pem(&pem),
        }
        .expect("test key");
        Self {
            kid: kid.to_owned(),
            alg,
            encoding,
        }
    }

    /// The same key under another `kid` or for another algorithm.
    pub(crate) fn with(&self, kid: &str, alg: Algorithm) -> Self {
        Self {
            kid: kid.to_owned(),
            alg,
            encoding: self.encoding.clone(),
        }
    }

    /// The public key as a JWK with `kid`, `alg` and `use: sig`.
    pub(crate) fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.alg).expect("jwk");
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.key_algorithm = Some(match self.alg {
            Algorithm::ES256 => KeyAlgorithm::ES256,
            Algorithm::PS256 => KeyAlgorithm::PS256,
            _ => KeyAlgorithm::RS256,
        });
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        serde_json::to_value(jwk).expect("jwk json")
    }

    /// Signs `claims` with this key, naming it in the header.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

/// RSA key 1 (`rsa-1`, RS256).
pub(crate) fn rsa1() -> TestKey {
    TestKey::load("rsa-1.pem", "rsa-1", Algorithm::RS256)
}

/// RSA key 2 (`rsa-2`, RS256): the key an issuer rotates to.
pub(crate) fn rsa2() -> TestKey {
    TestKey::load("rsa-2.pem", "rsa-2", Algorithm::RS256)
}

/// The P-256 key (`ec-1`, ES256).
pub(crate) fn ec1() -> TestKey {
    TestKey::load("ec-1.pem", "ec-1", Algorithm::ES256)
}

/// A JWKS document of `keys`.
pub(crate) fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()}).to_string()
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Claims valid for ten minutes, of `issuer` for `audience`, with `scope`.
pub(crate) fn claims(issuer: &str, audience: &str, scope: &str) -> Value {
    let now = now();
    json!({
        "iss": issuer, "aud": audience, "sub": "tester",
        "iat": now, "exp": now + 600, "scope": scope,
    })
}

/// An unsigned token (`alg: none`) naming `kid`.
pub(crate) fn unsigned(kid: &str, claims: &Value) -> String {
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT", "kid": kid})),
        b64(claims.clone())
    )
}

impl TestServer {
    /// Sends `token` as `Authorization: Bearer` on every request from now on (`None`: no header).
    pub(crate) fn use_token(&mut self, token: Option<&str>) {
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header value");
            headers.insert(AUTHORIZATION, value);
        }
        self.http = reqwest::Client::builder()
            .no_proxy()
            .default_headers(headers)
            .build()
            .expect("reqwest client");
    }

    /// The origin of the server, e.g. `http://127.0.0.1:8081`.
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.server().addr())
    }
}

#[derive(Debug, Default)]
struct IssuerState {
    url: String,
    /// What the metadata says the issuer is (normally `url`).
    claimed_issuer: String,
    jwks: Mutex<String>,
    jwks_fetches: AtomicU64,
}

/// An authorization server that serves only discovery: its metadata and a JWKS.
#[derive(Debug)]
pub(crate) struct TestIssuer {
    state: Arc<IssuerState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestIssuer {
    /// An issuer `http://127.0.0.1:PORT` with RFC 8414 metadata at the root well-known path.
    pub(crate) async fn start(keys: &[&TestKey]) -> Self {
        Self::serve(keys, "", "/.well-known/oauth-authorization-server", None).await
    }

    /// An issuer `http://127.0.0.1:PORT{issuer_path}` with metadata at `metadata_path`, claiming
    /// to be `claimed` (default: itself).
    pub(crate) async fn serve(
        keys: &[&TestKey],
        issuer_path: &str,
        metadata_path: &str,
        claimed: Option<&str>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind issuer");
        let url = format!(
            "http://{}{issuer_path}",
            listener.local_addr().expect("addr")
        );
        let state = Arc::new(IssuerState {
            claimed_issuer: claimed.map_or_else(|| url.clone(), str::to_owned),
            url,
            jwks: Mutex::new(jwks(keys)),
            jwks_fetches: AtomicU64::new(0),
        });
        let router = Router::new()
            .route(metadata_path, get(metadata))
            .route("/jwks", get(serve_jwks))
            .with_state(Arc::clone(&state));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The issuer identifier.
    pub(crate) fn url(&self) -> &str {
        &self.state.url
    }

    /// Publishes another key set from now on.
    pub(crate) fn rotate(&self, keys: &[&TestKey]) {
        *self.state.jwks.lock().expect("jwks lock") = jwks(keys);
    }

    /// How many times the JWKS was fetched.
    pub(crate) fn jwks_fetches(&self) -> u64 {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// Stops serving and waits for the task.
    pub(crate) async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("issuer task");
        }
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type JsonReply = ([(header::HeaderName, &'static str); 1], String);

fn json_reply(body: String) -> JsonReply {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

async fn metadata(State(state): State<Arc<IssuerState>>) -> JsonReply {
    let origin = state.url.split('/').take(3).collect::<Vec<_>>().join("/");
    json_reply(
        json!({
            "issuer": state.claimed_issuer,
            "authorization_endpoint": format!("{origin}/authorize"),
            "token_endpoint": format!("{origin}/token"),
            "jwks_uri": format!("{origin}/jwks"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        })
        .to_string(),
    )
}

async fn serve_jwks(State(state): State<Arc<IssuerState>>) -> JsonReply {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    json_reply(state.jwks.lock().expect("jwks lock").clone())
}
