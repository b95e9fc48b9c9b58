//! POST: one JSON-RPC message (or a 2025-03-26 batch) per request.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value;
use tokio::sync::oneshot;

use super::{
    RpcMethod, SESSION_HEADER, VERSION_HEADER, accepts, check_version, find_session, reply,
};
use crate::call::{CallCtx, Outlet};
use crate::config::ResponseMode;
use crate::demo;
use crate::events::{Reader, ReaderLimits};
use crate::fault::RequestFaults;
use crate::rpc::{self, Incoming};
use crate::server::App;
use crate::session::{EndReason, Session, lock};

pub(super) async fn handle(app: &Arc<App>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let faults = RequestFaults::new(&app.config.faults, &parts.headers);
    if let Some(delay) = faults.delay {
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = app.shutdown.cancelled() => return reply::status(StatusCode::SERVICE_UNAVAILABLE),
        }
    }
    if faults.status_500 {
        return reply::rpc_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            rpc::INTERNAL_ERROR,
            "Internal Server Error (fault)",
        );
    }
    let messages = match read_messages(app, &parts.headers, body).await {
        Ok(messages) => messages,
        Err(response) => return response,
    };
    let (is_batch, messages) = match messages {
        Value::Array(items) => (true, items),
        single => (false, vec![single]),
    };
    let first_method = messages
        .iter()
        .find_map(|m| m.get("method").and_then(Value::as_str))
        .map(str::to_owned);
    for method in messages
        .iter()
        .filter_map(|m| m.get("method").and_then(Value::as_str))
    {
        app.stats.count_method(method);
    }
    let mut response = dispatch(app, &parts.headers, faults, is_batch, messages).await;
    if let Some(method) = first_method {
        response.extensions_mut().insert(RpcMethod(method));
    }
    response
}

/// Checks the headers and the body, and parses it.
async fn read_messages(app: &App, headers: &HeaderMap, body: Body) -> Result<Value, Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(reply::rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            -32000,
            "Unsupported Media Type: Content-Type must be application/json",
        ));
    }
    if !accepts(headers, "application/json") || !accepts(headers, "text/event-stream") {
        return Err(reply::rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            -32000,
            "Not Acceptable: Accept must list both application/json and text/event-stream",
        ));
    }
    let limit = app.config.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = || reply::rpc_error(StatusCode::PAYLOAD_TOO_LARGE, -32000, "Payload Too Large");
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let bytes: Bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    if let Some(v) = headers.get(VERSION_HEADER) {
        let v = v.to_str().unwrap_or("<not ASCII>");
        if rpc::supported(v).is_none() {
            return Err(reply::unsupported_version(v));
        }
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        reply::rpc_error(
            StatusCode::BAD_REQUEST,
            rpc::PARSE_ERROR,
            &format!("Parse error: {e}"),
        )
    })
}

async fn dispatch(
    app: &Arc<App>,
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
        return reply::dead_session(app);
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
fn initialize(app: &Arc<App>, message: Value, faults: RequestFaults) -> Response {
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
    let answer = rpc::result(&id, demo::initialize_result(version));
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
fn accept_one(app: &App, session: &Session, message: Incoming) -> Option<Value> {
    match message {
        Incoming::Notification { method, params } => {
            demo::notification(app, session, &method, &params);
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

/// Starts a request on its own task; registers it for cancellation.
fn start(
    app: &Arc<App>,
    session: &Arc<Session>,
    out: Outlet,
    id: Value,
    method: String,
    params: Value,
) -> oneshot::Receiver<Value> {
    let cancel = session.ended.child_token();
    let key = id.to_string();
    lock(&session.state)
        .in_flight
        .insert(key.clone(), cancel.clone());
    let ctx = CallCtx {
        app: Arc::clone(app),
        session: Arc::clone(session),
        out,
        cancel,
    };
    let (tx, rx) = oneshot::channel();
    app.spawn(async move {
        let outcome = tokio::select! {
            outcome = demo::request(&ctx, &method, params) => Some(outcome),
            () = ctx.cancel.cancelled() => None,
        };
        // A tool that noticed the cancellation itself still sends no response.
        let outcome = outcome.filter(|_| !ctx.cancel.is_cancelled());
        lock(&ctx.session.state).in_flight.remove(&key);
        match (outcome, &ctx.out) {
            (Some(outcome), out) => {
                let answer = rpc::answer(&id, outcome);
                if let Outlet::Stream(log) = out {
                    // The answer and the stream's end reach readers together.
                    log.push_last(&answer);
                }
                let _ = tx.send(answer);
            }
            (None, Outlet::Stream(log)) => log.close(),
            (None, _) => {}
        }
    });
    rx
}

async fn request(
    app: &Arc<App>,
    session: &Arc<Session>,
    faults: RequestFaults,
    id: Value,
    method: String,
    params: Value,
) -> Response {
    match app.config.response_mode {
        ResponseMode::Sse => {
            let log = lock(&session.state).store.open(false);
            log.prime(app.config.retry_ms);
            drop(start(
                app,
                session,
                Outlet::Stream(Arc::clone(&log)),
                id,
                method,
                params,
            ));
            sse_answer(log, session, faults)
        }
        ResponseMode::Json => {
            let rx = start(app, session, Outlet::Json, id, method, params);
            tokio::select! {
                answer = rx => match answer {
                    Ok(answer) => json_answer(&answer, faults),
                    // Cancelled by notifications/cancelled: there is no response to send.
                    Err(_) => reply::accepted(),
                },
                () = session.ended.cancelled() => reply::dead_session(app),
            }
        }
    }
}

/// A 2025-03-26 batch, answered as one JSON array.
async fn batch(app: &Arc<App>, session: &Arc<Session>, messages: Vec<Value>) -> Response {
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
            () = session.ended.cancelled() => return reply::dead_session(app),
        }
    }
    if answers.is_empty() {
        return reply::accepted();
    }
    reply::json(StatusCode::OK, &answers)
}

fn json_answer(answer: &Value, faults: RequestFaults) -> Response {
    let body = serde_json::to_vec(answer).unwrap_or_default();
    if !faults.close {
        return reply::json_bytes(StatusCode::OK, body);
    }
    // Announce the whole length, send half, then fail: the connection drops mid-body.
    let half = Bytes::from(body[..body.len() / 2].to_vec());
    let fail = async {
        tokio::time::sleep(crate::events::FAULT_FLUSH).await;
        Err(std::io::Error::other(
            "fault: connection closed mid-response",
        ))
    };
    let chunks = futures_util::stream::iter([Ok(half)]).chain(futures_util::stream::once(fail));
    let mut response = reply::json_bytes(StatusCode::OK, Vec::new());
    *response.body_mut() = Body::from_stream(chunks);
    if let Ok(v) = HeaderValue::from_str(&body.len().to_string()) {
        response.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    response
}

fn sse_answer(
    log: Arc<crate::events::StreamLog>,
    session: &Session,
    faults: RequestFaults,
) -> Response {
    let limits = ReaderLimits {
        cut_after: faults.cut_after,
        fail_after: faults.close.then_some(1),
    };
    reply::sse(Reader::new(log, 0, limits, session.ended.clone(), None).into_body())
}
