//! Running a session-era request and answering it: an SSE stream or one JSON body.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;
use tokio::sync::oneshot;

use super::call::{Outlet, SessionCtx};
use super::events::{FAULT_FLUSH, Reader, ReaderLimits, StreamLog};
use super::session::{Session, lock};
use crate::config::ResponseMode;
use crate::demo::{self, Halt};
use crate::fault::RequestFaults;
use crate::rpc::{self, RpcError};
use crate::state::AppState;
use crate::wire::reply;

/// Starts a request on its own task; registers it for cancellation.
pub(super) fn start(
    app: &Arc<AppState>,
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
    let ctx = SessionCtx {
        session: Arc::clone(session),
        out,
        page_size: app.config.page_size,
        cancel,
    };
    let (tx, rx) = oneshot::channel();
    app.spawn(async move {
        let outcome = tokio::select! {
            outcome = answer(&ctx, &method, &params) => Some(outcome),
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

/// Answers one request: the session era's own methods, then the demo content.
async fn answer(ctx: &SessionCtx, method: &str, params: &Value) -> Result<Value, RpcError> {
    match method {
        "ping" => Ok(serde_json::json!({})),
        "logging/setLevel" => {
            let level = params.get("level").and_then(Value::as_str).unwrap_or("");
            let index = demo::LOG_LEVELS
                .iter()
                .position(|l| *l == level)
                .ok_or_else(|| RpcError::invalid_params(format!("unknown log level {level:?}")))?;
            lock(&ctx.session.state).log_level = index;
            Ok(serde_json::json!({}))
        }
        _ => match demo::request(ctx, method, params).await {
            Ok(result) | Err(Halt::Tool(result)) => Ok(result),
            Err(Halt::Rpc(err)) => Err(err),
            Err(Halt::Input) => Err(RpcError::new(
                rpc::INTERNAL_ERROR,
                "input required outside 2026-07-28",
            )),
        },
    }
}

pub(super) async fn request(
    app: &Arc<AppState>,
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
                () = session.ended.cancelled() => reply::dead_session(&app.config),
            }
        }
    }
}

pub(super) fn json_answer(answer: &Value, faults: RequestFaults) -> Response {
    let body = serde_json::to_vec(answer).unwrap_or_default();
    if !faults.close {
        return reply::json_bytes(StatusCode::OK, body);
    }
    // Announce the whole length, send half, then fail: the connection drops mid-body.
    let half = Bytes::from(body[..body.len() / 2].to_vec());
    let fail = async {
        tokio::time::sleep(FAULT_FLUSH).await;
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

pub(super) fn sse_answer(
    log: Arc<StreamLog>,
    session: &Session,
    faults: RequestFaults,
) -> Response {
    let limits = ReaderLimits {
        cut_after: faults.cut_after,
        fail_after: faults.close.then_some(1),
    };
    reply::sse(Reader::new(log, 0, limits, session.ended.clone(), None).into_body())
}
