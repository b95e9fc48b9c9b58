//! Building responses.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::json;

use crate::config::{DeadSessionStatus, Era, ServerConfig};
use crate::rpc;

pub(crate) fn status(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    json_bytes(status, body)
}

pub(crate) fn json_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An HTTP error with a JSON-RPC error body (id null).
pub(crate) fn rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    json(status, &rpc::error(&serde_json::Value::Null, code, message))
}

pub(crate) fn accepted() -> Response {
    status(StatusCode::ACCEPTED)
}

pub(crate) fn not_allowed(config: &ServerConfig) -> Response {
    let mut allow = vec!["POST"];
    let sessions = config.era != Era::Stateless;
    if sessions && config.get_stream {
        allow.push("GET");
    }
    if sessions && config.allow_delete {
        allow.push("DELETE");
    }
    let mut response = rpc_error(StatusCode::METHOD_NOT_ALLOWED, -32000, "Method Not Allowed");
    if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
        response.headers_mut().insert(header::ALLOW, v);
    }
    response
}

/// The answer for an unknown, terminated or expired session.
pub(crate) fn dead_session(config: &ServerConfig) -> Response {
    match config.faults.dead_session_status {
        DeadSessionStatus::NotFound => {
            rpc_error(StatusCode::NOT_FOUND, -32001, "Session not found")
        }
        DeadSessionStatus::BadRequest => rpc_error(
            StatusCode::BAD_REQUEST,
            -32000,
            "Bad Request: No valid session ID provided",
        ),
    }
}

pub(crate) fn unsupported_version(requested: &str) -> Response {
    let message = format!(
        "Bad Request: Unsupported protocol version: {requested} (supported versions: {})",
        rpc::SUPPORTED_VERSIONS.join(", ")
    );
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {
            "code": rpc::INVALID_REQUEST,
            "message": message,
            "data": {"supported": rpc::SUPPORTED_VERSIONS, "requested": requested},
        },
    });
    json(StatusCode::BAD_REQUEST, &body)
}

/// A `text/event-stream` response around `body`.
pub(crate) fn sse(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
