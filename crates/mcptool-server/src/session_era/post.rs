//! POST: one JSON-RPC message (or a 2025-03-26 batch) per request.

use std::sync::Arc;

use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::call::Outlet;
use super::respond::{json_answer, request, sse_answer, start};
use super::session::{EndReason, Session, lock};
use super::{check_version, find_session};
use crate::config::ResponseMode;
use crate::demo;
use crate::fault::RequestFaults;
use crate::rpc::{self, Incoming};
use crate::state::AppState;
use crate::wire::{SESSION_HEADER, VERSION_HEADER, reply};

pub(crate) async fn handle(app: &Arc<AppState>, parts: &Parts, message: Value) -> Response {
    app.stats.update(|s| s.session_era_requests += 1);
    let faults = parts
        .extensions
        .get::<RequestFaults>()
        .copied()
        .unwrap_or_default();
    if let Some(v) = parts.headers.get(VERSION_HEADER) {
        let v = v.to_str().unwrap_or("<not ASCII>");
        if rpc::supported(v).is_none() {
            return reply::unsupported_version(v);
        }
    }
    let (is_batch, messages) = match message {
        Value::Array(items) => (true, items),
        single => (false, vec![single]),
    };
    dispatch(app, &parts.headers, faults, is_batch, messages).await
}

async fn dispatch(
    app: &Arc<AppState>,
    headers: &HeaderMap,
    faults: RequestFaults,
    is_batch: bool,
    mut messages: Vec<Value>,
) -> Response {
    let is_initialize = messages
        .iter()
        .any(|m| m.get("method").and_then(Value::as_str) == Some("initialize"));
    if headers.get(SESSION_HEADER).is_none() {
        if is_initialize && !is_batch {
            let message = messages.pop().unwrap_or_default();
            return initialize(app, message, faults);
        }
        return reply::rpc_error(
            StatusCode::BAD_REQUEST,
            -32000,
            "Bad Request: Mcp-Session-Id header is required",
        );
    }
    let session = match find_session(app, headers) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    if faults.expire {
        app.sessions.end(&session.id, EndReason::Expired);
        return reply::dead_session(&app.config);
    }
    if let Err(response) = check_version(app, headers, &session) {
        return *response;
    }
    if is_initialize {
        return reply::rpc_error(
            StatusCode::BAD_REQUEST,
            rpc::INVALID_REQUEST,
            "Bad Request: initialize must not carry an Mcp-Session-Id (the session is already initialized)",
        );
    }
    session.touch();
    if is_batch {
        return batch(app, &session, messages).await;
    }
    let message = messages.pop().unwrap_or_default();
    match Incoming::classify(message) {
        Incoming::Request { id, method, params } => {
            request(app, &session, faults, id, method, params).await
        }
        other => match accept_one(app, &session, other) {
            Some(error) => reply::json(StatusCode::BAD_REQUEST, &error),
            None => reply::accepted(),
        },
    }
}

/// Creates a session and answers `initialize`.
fn initialize(app: &Arc<AppState>, message: Value, faults: RequestFaults) -> Response {
    let Incoming::Request { id, params, .. } = Incoming::classify(message) else {
        return reply::rpc_error(
            StatusCode::BAD_REQUEST,
            rpc::INVALID_REQUEST,
            "Bad Request: initialize must be a request",
        );
    };
    let requested = params
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or(rpc::LATEST_VERSION);
    let version = rpc::supported(requested).unwrap_or(rpc::LATEST_VERSION);
    let Some(session) = app.sessions.create(version, app.config.max_sessions) else {
        return reply::rpc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            -32000,
            "Service Unavailable: too many sessions",
        );
    };
    let answer = rpc::result(&id, initialize_result(version));
    let mut response = match app.config.response_mode {
        ResponseMode::Json => json_answer(&answer, faults),
        ResponseMode::Sse => {
            let log = lock(&session.state).store.open(false);
            log.prime(app.config.retry_ms);
            log.push_last(&answer);
            sse_answer(log, &session, faults)
        }
    };
    if let Ok(value) = HeaderValue::from_str(&session.id) {
        response.headers_mut().insert(SESSION_HEADER, value);
    }
    response
}

/// Handles a notification or a response; returns an error message for an invalid one.
fn accept_one(app: &AppState, session: &Session, message: Incoming) -> Option<Value> {
    match message {
        Incoming::Notification { method, params } => {
            notification(app, session, &method, &params);
            None
        }
        Incoming::Response { id, message } => {
            app.stats.update(|s| s.client_responses += 1);
            if let Some(waiter) = lock(&session.state).pending.remove(&id.to_string()) {
                let _ = waiter.send(message);
            }
            None
        }
        Incoming::Invalid { id, reason } => Some(rpc::error(&id, rpc::INVALID_REQUEST, reason)),
        Incoming::Request { id, .. } => {
            Some(rpc::error(&id, rpc::INTERNAL_ERROR, "unexpected request"))
        }
    }
}

/// The `initialize` result for a negotiated version.
fn initialize_result(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": demo::capabilities(false),
        "serverInfo": demo::server_info(),
        "instructions": demo::INSTRUCTIONS,
    })
}

/// Handles a notification from the client.
fn notification(app: &AppState, session: &Session, method: &str, params: &Value) {
    match method {
        "notifications/initialized" => lock(&session.state).initialized = true,
        "notifications/cancelled" => {
            let Some(id) = params.get("requestId") else {
                return;
            };
            let token = lock(&session.state).in_flight.remove(&id.to_string());
            if let Some(token) = token {
                token.cancel();
                app.stats.update(|s| s.cancelled_requests += 1);
            }
        }
        _ => {}
    }
}

/// A 2025-03-26 batch, answered as one JSON array.
async fn batch(app: &Arc<AppState>, session: &Arc<Session>, messages: Vec<Value>) -> Response {
    if session.version != rpc::SUPPORTED_VERSIONS[0] {
        let message = format!(
            "Bad Request: batches are not supported in protocol version {}",
            session.version
        );
        return reply::rpc_error(StatusCode::BAD_REQUEST, rpc::INVALID_REQUEST, &message);
    }
    if messages.is_empty() {
        return reply::rpc_error(
            StatusCode::BAD_REQUEST,
            rpc::INVALID_REQUEST,
            "Bad Request: empty batch",
        );
    }
    let mut answers = Vec::new();
    let mut waiting = Vec::new();
    for message in messages {
        match Incoming::classify(message) {
            Incoming::Request { id, method, params } => {
                waiting.push(start(app, session, Outlet::Json, id, method, params))
            }
            other => answers.extend(accept_one(app, session, other)),
        }
    }
    for rx in waiting {
        tokio::select! {
            answer = rx => answers.extend(answer.ok()),
            () = session.ended.cancelled() => return reply::dead_session(&app.config),
        }
    }
    if answers.is_empty() {
        return reply::accepted();
    }
    reply::json(StatusCode::OK, &answers)
}
