//! 2026-07-28, the stateless era: no `initialize`, no session; every request carries its
//! version and client capabilities in `_meta` and its method and name in headers.
//!
//! A POST's data path, top to bottom ([`post`]):
//! 1. the message must be one request (a notification is accepted and ignored; responses and
//!    batches are refused);
//! 2. [`prepare`] checks it: `_meta` ([`meta`]), the headers against the body ([`headers`]), the
//!    version, the method, the client capabilities the call needs, and on a retry the
//!    `requestState` and `inputResponses` ([`mrtr`]) — each failure has its status and code;
//! 3. it is answered: `server/discover` at once, `subscriptions/listen` with a stream
//!    ([`listen`]), content methods through the demo content ([`call`]), as JSON or a stream
//!    that closing cancels ([`sse`]); results get `resultType`, `serverInfo` and caching hints.

mod call;
mod headers;
mod listen;
mod meta;
mod mrtr;
mod sse;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use axum::response::Response;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::config::{Era, ServerConfig};
use crate::demo::{self, Change};
use crate::rpc::{self, Incoming, RpcError};
use crate::state::AppState;
use crate::stateless::meta::Meta;
use crate::stateless::mrtr::{Binding, Rounds, Signer};
use crate::wire::{SESSION_HEADER, reply};

/// The `_meta` key under which results name the server.
const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// Methods that may answer `input_required`, and so may carry `inputResponses`.
const MRTR_METHODS: [&str; 3] = ["tools/call", "prompts/get", "resources/read"];
/// Methods whose complete results carry caching hints.
const CACHEABLE: [&str; 6] = [
    "server/discover",
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
];
/// How many changes a listen stream may fall behind before it skips some.
const BUS_CAPACITY: usize = 256;

/// The stateless era's server-wide state.
#[derive(Debug)]
pub(crate) struct Stateless {
    /// The demo state: lists no longer vary per connection in 2026-07-28.
    pub(crate) scope: demo::Scope,
    /// Changes, for the listen streams.
    bus: broadcast::Sender<Change>,
    /// Signs and checks `requestState`.
    signer: Signer,
    /// Listen streams open now.
    listeners: AtomicUsize,
}

impl Stateless {
    pub(crate) fn new(config: &ServerConfig) -> Self {
        Self {
            scope: demo::Scope::default(),
            bus: broadcast::channel(BUS_CAPACITY).0,
            signer: Signer::new(config.request_state_ttl),
            listeners: AtomicUsize::new(0),
        }
    }

    /// Tells every listen stream about a change (those that asked for it pass it on).
    pub(crate) fn announce(&self, change: Change) {
        // No receiver is fine: nobody listens.
        let _ = self.bus.send(change);
    }
}

/// A request that passed every check.
#[derive(Debug)]
pub(super) struct Prepared {
    id: Value,
    method: String,
    params: Value,
    meta: Meta,
    rounds: Rounds,
    /// The caller's `Authorization`, which a request state is bound to.
    caller: Option<Vec<u8>>,
}

/// A refusal: the HTTP status and the JSON-RPC error.
#[derive(Debug)]
pub(super) struct Reject {
    status: StatusCode,
    id: Value,
    err: RpcError,
}

impl Reject {
    fn bad_request(id: &Value, err: RpcError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, id, err)
    }

    fn unavailable(id: &Value, err: RpcError) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, id, err)
    }

    fn new(status: StatusCode, id: &Value, err: RpcError) -> Self {
        Self {
            status,
            id: id.clone(),
            err,
        }
    }

    fn respond(self, app: &AppState) -> Response {
        app.stats
            .update(|s| *s.stateless_errors.entry(self.err.code).or_default() += 1);
        reply::json(self.status, &rpc::error_of(&self.id, &self.err))
    }
}

/// Serves one POST by the 2026-07-28 rules.
pub(crate) async fn post(app: &Arc<AppState>, parts: &Parts, message: Value) -> Response {
    let session_id = parts.headers.contains_key(SESSION_HEADER);
    app.stats.update(|s| {
        s.stateless_requests += 1;
        s.stateless_session_ids_ignored += u64::from(session_id);
    });
    if message.is_array() {
        let err = RpcError::new(rpc::INVALID_REQUEST, "batches are not part of 2026-07-28");
        return Reject::bad_request(&Value::Null, err).respond(app);
    }
    let (id, method, params) = match Incoming::classify(message) {
        Incoming::Request { id, method, params } => (id, method, params),
        // 2026-07-28 defines no client notifications over HTTP: accepted, and ignored.
        Incoming::Notification { .. } => return reply::accepted(),
        Incoming::Response { id, .. } => {
            let err = RpcError::new(
                rpc::INVALID_REQUEST,
                "clients send no responses in 2026-07-28",
            );
            return Reject::bad_request(&id, err).respond(app);
        }
        Incoming::Invalid { id, reason } => {
            let err = RpcError::new(rpc::INVALID_REQUEST, reason);
            return Reject::bad_request(&id, err).respond(app);
        }
    };
    let prepared = match prepare(app, parts, id, method, params) {
        Ok(prepared) => prepared,
        Err(reject) => return reject.respond(app),
    };
    match prepared.method.as_str() {
        "server/discover" => {
            app.stats.update(|s| s.discover_calls += 1);
            let result = decorate(app, "server/discover", discover(app));
            reply::json(StatusCode::OK, &rpc::result(&prepared.id, result))
        }
        "subscriptions/listen" => listen::open(app, prepared.id.clone(), &prepared.params)
            .unwrap_or_else(|reject| reject.respond(app)),
        _ => call::run(app, prepared).await,
    }
}

/// Every check a request passes before it runs, in the order the spec's errors imply.
fn prepare(
    app: &AppState,
    parts: &Parts,
    id: Value,
    method: String,
    params: Value,
) -> Result<Prepared, Reject> {
    let bad = |err: RpcError| Reject::bad_request(&id, err);
    if method == "initialize" {
        let requested = params.get("protocolVersion").and_then(Value::as_str);
        return Err(bad(unsupported(
            app,
            requested.unwrap_or(""),
            "initialize is not part of 2026-07-28",
        )));
    }
    let meta = Meta::read(&params).map_err(bad)?;
    let tool = (method == "tools/call")
        .then(|| params.get("name").and_then(Value::as_str))
        .flatten()
        .and_then(|name| demo::tool_definition(name, app.stateless.scope.extra_tool()));
    headers::check(&parts.headers, &method, &params, &meta.version, tool).map_err(|m| {
        app.stats
            .update(|s| *s.header_mismatches.entry(m.header).or_default() += 1);
        bad(RpcError::new(rpc::HEADER_MISMATCH, m.message))
    })?;
    if rpc::stateless(&meta.version).is_none() {
        return Err(bad(unsupported(
            app,
            &meta.version,
            "unsupported protocol version",
        )));
    }
    check_method(&id, &method, &params)?;
    check_capability(&meta, tool).map_err(bad)?;
    let caller: Option<Vec<u8>> = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec());
    let binding = || Binding::of(&method, &params, caller.as_deref());
    let rounds = Rounds::read(&app.stateless.signer, binding, &params).map_err(|refusal| {
        if matches!(refusal, mrtr::Refusal::State(_)) {
            app.stats.update(|s| s.mrtr_rejected_states += 1);
        }
        bad(refusal.into())
    })?;
    Ok(Prepared {
        id,
        method,
        params,
        meta,
        rounds,
        caller,
    })
}

/// The method must be one of 2026-07-28's, and only the MRTR methods take input responses.
fn check_method(id: &Value, method: &str, params: &Value) -> Result<(), Reject> {
    let known = demo::METHODS.contains(&method)
        || matches!(method, "server/discover" | "subscriptions/listen");
    if !known {
        let err = RpcError::new(rpc::METHOD_NOT_FOUND, format!("Method not found: {method}"));
        return Err(Reject::new(StatusCode::NOT_FOUND, id, err));
    }
    let carries_input =
        params.get("inputResponses").is_some() || params.get("requestState").is_some();
    if carries_input && !MRTR_METHODS.contains(&method) {
        let message = format!("{method} takes no inputResponses or requestState");
        return Err(Reject::bad_request(id, RpcError::invalid_params(message)));
    }
    Ok(())
}

/// A tool that asks the client for input needs the client to have declared that capability.
fn check_capability(meta: &Meta, tool: Option<&Value>) -> Result<(), RpcError> {
    let Some(needed) = tool
        .and_then(|t| t["name"].as_str())
        .and_then(demo::required_capability)
        .filter(|c| !meta.declares(c))
    else {
        return Ok(());
    };
    let message = format!(
        "this tool needs the client capability {needed}, which the request did not declare"
    );
    let data = json!({"requiredCapabilities": {needed: {}}});
    Err(RpcError::new(rpc::MISSING_CAPABILITY, message).with_data(data))
}

/// -32022 with the versions this server serves.
fn unsupported(app: &AppState, requested: &str, why: &str) -> RpcError {
    let supported = supported_versions(app);
    let message = format!(
        "{why}: {requested:?} (supported versions: {})",
        supported.join(", ")
    );
    RpcError::new(rpc::UNSUPPORTED_VERSION, message)
        .with_data(json!({"supported": supported, "requested": requested}))
}

/// The versions this endpoint serves, newest era first.
fn supported_versions(app: &AppState) -> Vec<&'static str> {
    let mut versions = rpc::STATELESS_VERSIONS.to_vec();
    if app.config.era == Era::Both {
        versions.extend(rpc::SUPPORTED_VERSIONS.iter().rev());
    }
    versions
}

fn discover(app: &AppState) -> Value {
    json!({
        "supportedVersions": supported_versions(app),
        "capabilities": demo::capabilities(true),
        "instructions": demo::INSTRUCTIONS,
    })
}

/// A complete result as 2026-07-28 sends it: `resultType`, `serverInfo`, and caching hints
/// where the method is cacheable.
fn decorate(app: &AppState, method: &str, mut result: Value) -> Value {
    let Some(object) = result.as_object_mut() else {
        return result;
    };
    object.insert("resultType".to_owned(), json!("complete"));
    let meta = object.entry("_meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(SERVER_INFO.to_owned(), demo::server_info());
    }
    if CACHEABLE.contains(&method) {
        object.insert("ttlMs".to_owned(), json!(app.config.cache_ttl_ms));
        object.insert("cacheScope".to_owned(), json!("public"));
        app.stats.update(|s| s.caching_hints += 1);
    }
    result
}

/// GET and DELETE in 2026-07-28: 405, POST only.
pub(crate) fn not_allowed(app: &AppState) -> Response {
    let err = RpcError::new(
        rpc::INVALID_REQUEST,
        "Method Not Allowed: 2026-07-28 has no GET stream and no DELETE; use POST",
    );
    let mut response = Reject::new(StatusCode::METHOD_NOT_ALLOWED, &Value::Null, err).respond(app);
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
