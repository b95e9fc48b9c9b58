//! The session era (2025-03-26, 2025-06-18, 2025-11-25): `initialize` opens a session named by
//! `Mcp-Session-Id`; server messages travel on request streams and the standalone GET stream;
//! DELETE ends the session; streams resume with `Last-Event-ID`.
//!
//! A POST's data path: [`post::handle`] checks the session and the version, answers
//! `initialize`, batches and notifications itself, and runs a request through [`call`], whose
//! context lets the demo content talk back over the session's streams.

mod call;
mod delete;
mod events;
mod get;
mod post;
mod respond;
mod session;

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderMap, StatusCode};

pub(crate) use crate::session_era::delete::handle as delete;
pub(crate) use crate::session_era::get::handle as get;
pub(crate) use crate::session_era::post::handle as post;
pub(crate) use crate::session_era::session::{EndReason, Sessions};

use crate::rpc;
use crate::session_era::session::Session;
use crate::state::AppState;
use crate::wire::{SESSION_HEADER, VERSION_HEADER, header, reply};

/// The session named by the request's header, or the response to give instead.
fn find_session(app: &AppState, headers: &HeaderMap) -> Result<Arc<Session>, Box<Response>> {
    let Some(id) = header(headers, SESSION_HEADER) else {
        return Err(Box::new(reply::rpc_error(
            StatusCode::BAD_REQUEST,
            -32000,
            "Bad Request: Mcp-Session-Id header is required",
        )));
    };
    app.sessions
        .get(id)
        .ok_or_else(|| Box::new(reply::dead_session(&app.config)))
}

/// Checks `MCP-Protocol-Version` against the session's negotiated version.
fn check_version(
    app: &AppState,
    headers: &HeaderMap,
    session: &Session,
) -> Result<(), Box<Response>> {
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
