//! GET: the standalone SSE stream, or the resumption of any stream with `Last-Event-ID`.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use http::StatusCode;

use super::events::{Reader, ReaderLimits, StreamLog};
use super::session::{Session, lock};
use super::{check_version, find_session};
use crate::state::AppState;
use crate::stats::ServerStats;
use crate::wire::{accepts, header, reply};

/// Holds a session's standalone GET slot while its stream is open.
#[derive(Debug)]
struct StandaloneSlot {
    session: Arc<Session>,
    log: Arc<StreamLog>,
    stats: ServerStats,
}

impl Drop for StandaloneSlot {
    fn drop(&mut self) {
        let mut state = lock(&self.session.state);
        if state
            .standalone
            .as_ref()
            .is_some_and(|l| Arc::ptr_eq(l, &self.log))
        {
            state.standalone = None;
        }
        drop(state);
        self.stats
            .update(|s| s.live_get_streams = s.live_get_streams.saturating_sub(1));
    }
}

pub(crate) async fn handle(app: &Arc<AppState>, req: Request) -> Response {
    let headers = req.headers();
    if !accepts(headers, "text/event-stream") {
        return reply::rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            -32000,
            "Not Acceptable: Accept must list text/event-stream",
        );
    }
    let last_event_id = header(headers, "last-event-id").map(str::to_owned);
    if last_event_id.is_some() {
        app.stats.update(|s| s.resumptions += 1);
    }
    if last_event_id.is_none() && !app.config.get_stream {
        return reply::not_allowed(&app.config);
    }
    let session = match find_session(app, headers) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    if let Err(response) = check_version(app, headers, &session) {
        return *response;
    }
    session.touch();
    match last_event_id {
        None => standalone(app, &session),
        Some(last_event_id) => resume(app, &session, &last_event_id),
    }
}

/// Resumes the stream that `last_event_id` belongs to, from the event after it.
fn resume(app: &AppState, session: &Arc<Session>, last_event_id: &str) -> Response {
    let mut state = lock(&session.state);
    let Some((log, from)) = state.store.resume(last_event_id) else {
        drop(state);
        return reply::rpc_error(
            StatusCode::BAD_REQUEST,
            -32000,
            "Bad Request: unknown Last-Event-ID",
        );
    };
    let mut slot = None;
    if log.standalone {
        // Resuming the standalone stream re-attaches it: still at most one per session.
        if state.standalone.is_some() {
            drop(state);
            return conflict();
        }
        state.standalone = Some(Arc::clone(&log));
        app.stats.update(|s| s.live_get_streams += 1);
        slot = Some(StandaloneSlot {
            session: Arc::clone(session),
            log: Arc::clone(&log),
            stats: app.stats.clone(),
        });
    }
    drop(state);
    let guard = slot.map(|s| Box::new(s) as Box<dyn std::any::Any + Send + Sync>);
    reply::sse(
        Reader::new(
            log,
            from,
            ReaderLimits::default(),
            session.ended.clone(),
            guard,
        )
        .into_body(),
    )
}

fn conflict() -> Response {
    reply::rpc_error(
        StatusCode::CONFLICT,
        -32000,
        "Conflict: Only one SSE stream is allowed per session",
    )
}

fn standalone(app: &AppState, session: &Arc<Session>) -> Response {
    let mut state = lock(&session.state);
    if state.standalone.is_some() {
        return conflict();
    }
    let log = state.store.open(true);
    state.standalone = Some(Arc::clone(&log));
    drop(state);
    app.stats.update(|s| {
        s.live_get_streams += 1;
        s.get_streams_opened += 1;
    });
    log.prime(app.config.retry_ms);
    let slot = StandaloneSlot {
        session: Arc::clone(session),
        log: Arc::clone(&log),
        stats: app.stats.clone(),
    };
    let reader = Reader::new(
        log,
        0,
        ReaderLimits::default(),
        session.ended.clone(),
        Some(Box::new(slot)),
    );
    reply::sse(reader.into_body())
}
