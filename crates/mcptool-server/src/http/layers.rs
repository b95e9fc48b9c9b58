//! The layers around every request: recording what the server saw, the `Origin` check, and the
//! fault knobs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, StatusCode};

use super::RpcMethod;
use crate::fault::RequestFaults;
use crate::rpc;
use crate::state::AppState;
use crate::stats::RequestRecord;
use crate::wire::{SESSION_HEADER, VERSION_HEADER, header, reply};

/// Headers kept per request record.
const MAX_RECORDED_HEADERS: usize = 64;
/// Bytes kept per recorded header value.
const MAX_RECORDED_VALUE: usize = 1024;

/// Records every request and the status it got (outermost layer).
pub(super) async fn record(State(app): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let http_method = req.method().to_string();
    // Bounded: a flood of huge headers must not make the 10 000 kept records huge.
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .take(MAX_RECORDED_HEADERS)
        .map(|(k, v)| {
            let mut value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            if value.len() > MAX_RECORDED_VALUE {
                let mut end = MAX_RECORDED_VALUE;
                while !value.is_char_boundary(end) {
                    end -= 1;
                }
                value.truncate(end);
            }
            (k.to_string(), value)
        })
        .collect();
    let session_id = header(req.headers(), SESSION_HEADER).map(str::to_owned);
    let protocol_version = header(req.headers(), VERSION_HEADER).map(str::to_owned);
    let response = next.run(req).await;
    let session_id =
        session_id.or_else(|| header(response.headers(), SESSION_HEADER).map(str::to_owned));
    let rpc_method = response
        .extensions()
        .get::<RpcMethod>()
        .map(|m| m.0.clone());
    app.stats.record(RequestRecord {
        http_method,
        session_id,
        rpc_method,
        protocol_version,
        status: response.status().as_u16(),
        headers,
    });
    response
}

/// 403 for a present `Origin` that is not allowed, in both eras.
pub(super) async fn origin(State(app): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(http::header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| app.config.origin_allowed(o));
        if !allowed {
            return reply::rpc_error(
                StatusCode::FORBIDDEN,
                -32000,
                "Forbidden: Origin not allowed",
            );
        }
    }
    next.run(req).await
}

/// Works out the request's faults, applies the delay and the 500 to POSTs, and leaves the rest
/// (cut streams, closed bodies, expiry) in the request's extensions for the handlers.
pub(super) async fn faults(
    State(app): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let faults = RequestFaults::new(&app.config.faults, req.headers());
    if req.method() == Method::POST {
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
    }
    req.extensions_mut().insert(faults);
    next.run(req).await
}
