//! DELETE: terminates a session.

use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::{check_version, find_session};
use crate::session_era::session::EndReason;
use crate::state::AppState;
use crate::wire::reply;

pub(crate) fn handle(app: &AppState, headers: &HeaderMap) -> Response {
    if !app.config.allow_delete {
        return reply::not_allowed(&app.config);
    }
    let session = match find_session(app, headers) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    if let Err(response) = check_version(app, headers, &session) {
        return *response;
    }
    let faults = &app.config.faults;
    if let Some(code) = faults.delete_status {
        return reply::status(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    if faults.accept_terminated_sessions {
        // Misbehave on purpose: report the session deleted but keep serving it.
        app.stats.update(|s| s.sessions_deleted += 1);
        return reply::status(StatusCode::OK);
    }
    app.sessions.end(&session.id, EndReason::Deleted);
    reply::status(StatusCode::OK)
}
