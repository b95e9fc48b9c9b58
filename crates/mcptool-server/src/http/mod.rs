//! The HTTP face: the routes, the layers every request passes, and which era serves a request.
//!
//! A POST reads top to bottom: [`layers`] record it, check its `Origin` and apply faults; its body
//! is read and parsed once ([`body`]); [`era`] picks the protocol era from the request; the era's
//! module answers it.

mod body;
mod era;
mod layers;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{get, post};
use http::StatusCode;
use serde_json::Value;

use crate::auth::{self, Grant};
use crate::http::era::Wire;
use crate::state::AppState;
use crate::wire::reply;
use crate::{session_era, stateless};

/// The JSON-RPC method of a POST, attached to the response for the request record.
#[derive(Debug, Clone)]
pub(crate) struct RpcMethod(pub(crate) String);

/// The server's routes: the MCP endpoint, `/stats` when enabled, the protected resource
/// metadata with [`ServerConfig::auth`](crate::ServerConfig::auth), 404 elsewhere.
pub(crate) fn router(app: &Arc<AppState>) -> Router {
    let mut endpoint = post(handle_post)
        .get(handle_get)
        .delete(handle_delete)
        .fallback(handle_other)
        .layer(from_fn_with_state(Arc::clone(app), layers::faults));
    if let Some(auth) = &app.auth {
        endpoint = endpoint.layer(from_fn_with_state(Arc::clone(auth), auth::guard));
    }
    let endpoint = endpoint.layer(from_fn_with_state(Arc::clone(app), layers::origin));
    let mut router = Router::new().route(&app.config.path, endpoint);
    if app.config.stats_endpoint && app.config.path != "/stats" {
        router = router.route("/stats", get(handle_stats));
    }
    if let Some(auth) = &app.auth {
        let (paths, document) = auth.metadata();
        for path in paths.iter().filter(|p| **p != app.config.path) {
            let document = document.clone();
            router = router.route(
                path,
                get(move || async move { reply::json(StatusCode::OK, &document) }),
            );
        }
    }
    router
        .fallback(|| async { reply::status(StatusCode::NOT_FOUND) })
        .layer(from_fn_with_state(Arc::clone(app), layers::record))
        .with_state(Arc::clone(app))
}

async fn handle_post(State(app): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let message = match body::read_json(&app, &parts.headers, body).await {
        Ok(message) => message,
        Err(response) => return response,
    };
    let first_method = first_method(&message);
    count_methods(&app, &message);
    // The one tool-scope check of both eras, before either starts answering.
    let refusal = (app.auth.as_ref())
        .and_then(|auth| auth.check_calls(parts.extensions.get::<Grant>(), &message));
    let wire = era::for_post(app.config.era, &parts.headers, &message);
    let mut response = match (refusal, wire) {
        (Some(refusal), _) => refusal,
        (None, Wire::Session) => session_era::post(&app, &parts, message).await,
        (None, Wire::Stateless) => stateless::post(&app, &parts, message).await,
    };
    if let Some(method) = first_method {
        response.extensions_mut().insert(RpcMethod(method));
    }
    response
}

async fn handle_get(State(app): State<Arc<AppState>>, req: Request) -> Response {
    match era::for_get_or_delete(app.config.era, req.headers()) {
        Wire::Session => session_era::get(&app, req).await,
        Wire::Stateless => stateless::not_allowed(&app),
    }
}

async fn handle_delete(State(app): State<Arc<AppState>>, req: Request) -> Response {
    app.stats.update(|s| s.deletes += 1);
    match era::for_get_or_delete(app.config.era, req.headers()) {
        Wire::Session => session_era::delete(&app, req.headers()),
        Wire::Stateless => stateless::not_allowed(&app),
    }
}

async fn handle_other(State(app): State<Arc<AppState>>) -> Response {
    reply::not_allowed(&app.config)
}

async fn handle_stats(State(app): State<Arc<AppState>>) -> Response {
    reply::json(StatusCode::OK, &app.stats.snapshot())
}

/// The method of a message, or of the first one of a batch that has one.
fn first_method(message: &Value) -> Option<String> {
    let method = |m: &Value| m.get("method").and_then(Value::as_str).map(str::to_owned);
    match message {
        Value::Array(items) => items.iter().find_map(method),
        single => method(single),
    }
}

fn count_methods(app: &AppState, message: &Value) {
    let items = match message {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    for method in items
        .iter()
        .filter_map(|m| m.get("method").and_then(Value::as_str))
    {
        app.stats.count_method(method);
    }
}
