//! Reading a POST body: media types, size cap, JSON. The same in both eras.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::rpc;
use crate::state::AppState;
use crate::wire::{accepts, reply};

/// Checks `Content-Type`, `Accept` and the size, then parses the body.
pub(super) async fn read_json(
    app: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, Response> {
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
    serde_json::from_slice(&bytes).map_err(|e| {
        reply::rpc_error(
            StatusCode::BAD_REQUEST,
            rpc::PARSE_ERROR,
            &format!("Parse error: {e}"),
        )
    })
}
