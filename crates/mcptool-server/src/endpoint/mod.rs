//! The HTTP face: one entry point that checks, routes and records every request.

mod delete;
mod get;
mod post;
mod reply;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};

use crate::rpc;
use crate::server::App;
use crate::session::Session;
use crate::stats::RequestRecord;

pub(crate) const SESSION_HEADER: &str = "mcp-session-id";
pub(crate) const VERSION_HEADER: &str = "mcp-protocol-version";
/// Headers kept per request record.
const MAX_RECORDED_HEADERS: usize = 64;
/// Bytes kept per recorded header value.
const MAX_RECORDED_VALUE: usize = 1024;

/// The JSON-RPC method of a POST, attached to the response for the request record.
#[derive(Debug, Clone)]
struct RpcMethod(String);

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Handles and records every request the server receives.
pub(crate) async fn entry(State(app): State<Arc<App>>, req: Request) -> Response {
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
    let response = route(&app, req).await;
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

async fn route(app: &Arc<App>, req: Request) -> Response {
    let path = req.uri().path();
    if app.config.stats_endpoint && path == "/stats" && req.method() == Method::GET {
        return reply::json(StatusCode::OK, &app.stats.snapshot());
    }
    if path != app.config.path {
        return reply::status(StatusCode::NOT_FOUND);
    }
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
    match *req.method() {
        Method::POST => post::handle(app, req).await,
        Method::GET => get::handle(app, req).await,
        Method::DELETE => delete::handle(app, req).await,
        _ => reply::not_allowed(app),
    }
}

/// The session named by the request's header, or the response to give instead.
fn find_session(app: &App, headers: &HeaderMap) -> Result<Arc<Session>, Box<Response>> {
    let Some(id) = header(headers, SESSION_HEADER) else {
        return Err(Box::new(reply::rpc_error(
            StatusCode::BAD_REQUEST,
            -32000,
            "Bad Request: Mcp-Session-Id header is required",
        )));
    };
    app.sessions
        .get(id)
        .ok_or_else(|| Box::new(reply::dead_session(app)))
}

/// Checks `MCP-Protocol-Version` against the session's negotiated version.
fn check_version(app: &App, headers: &HeaderMap, session: &Session) -> Result<(), Box<Response>> {
    match header(headers, VERSION_HEADER) {
        None => {
            if session.version != rpc::SUPPORTED_VERSIONS[0] {
                app.stats
                    .update(|s| s.requests_missing_protocol_version += 1);
            }
            Ok(())
        }
        Some(v) if rpc::supported(v).is_none() => Err(Box::new(reply::unsupported_version(v))),
        Some(v) if v != session.version => Err(Box::new(reply::rpc_error(
            StatusCode::BAD_REQUEST,
            rpc::INVALID_REQUEST,
            &format!(
                "Bad Request: MCP-Protocol-Version {v} does not match the negotiated {}",
                session.version
            ),
        ))),
        Some(_) => Ok(()),
    }
}

/// Whether an `Accept` header lists `media` (or a matching wildcard).
fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .map(|part| part.split(';').next().unwrap_or("").trim())
                .any(|m| {
                    m.eq_ignore_ascii_case(media)
                        || m.strip_suffix("/*")
                            .is_some_and(|k| k.eq_ignore_ascii_case(kind))
                })
        })
}
