//! Running a 2026-07-28 content request: the context the demo content talks back through, and
//! the answer (one JSON body, or a stream that closing cancels).

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::mrtr::{Binding, Rounds};
use super::{Prepared, decorate, sse};
use crate::config::ResponseMode;
use crate::demo::{self, Change, Halt};
use crate::rpc::{self, RpcError};
use crate::state::AppState;
use crate::wire::reply;

/// The context a 2026-07-28 request runs in.
#[derive(Debug)]
struct StatelessCtx {
    app: Arc<AppState>,
    /// The request's own stream, when it answers with one.
    out: Option<sse::Sender>,
    log_level: Option<usize>,
    rounds: Rounds,
    caller: Option<Vec<u8>>,
    /// Cancelled when the client closes the response, or at shutdown.
    cancel: CancellationToken,
}

impl demo::Ctx for StatelessCtx {
    fn session_id(&self) -> Option<&str> {
        None
    }

    fn page_size(&self) -> usize {
        self.app.config.page_size
    }

    fn scope(&self) -> &demo::Scope {
        &self.app.stateless.scope
    }

    fn resource_not_found_code(&self) -> i64 {
        rpc::INVALID_PARAMS
    }

    fn changed(&self, change: Change) {
        self.app.stateless.announce(change);
    }

    fn progress(&self, params: Value) {
        if let Some(out) = &self.out {
            out.notify(&rpc::notification("notifications/progress", params));
        }
    }

    fn log(&self, level: usize, params: Value) {
        let wanted = self.log_level.is_some_and(|least| level >= least);
        if let (true, Some(out)) = (wanted, &self.out) {
            out.notify(&rpc::notification("notifications/message", params));
        }
    }

    async fn input(&self, key: &str, method: &str, params: Value) -> Result<Value, Halt> {
        if let Some(answer) = self.rounds.answer(key) {
            return check_answer(key, method, answer).map_err(Halt::Rpc);
        }
        self.rounds
            .ask(key, json!({"method": method, "params": params}));
        Err(Halt::Input)
    }

    async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }
}

/// Checks that an input response has the shape of the result its request asks for.
fn check_answer(key: &str, method: &str, answer: &Value) -> Result<Value, RpcError> {
    let ok = match method {
        "elicitation/create" => {
            let action = answer.get("action").and_then(Value::as_str);
            matches!(action, Some("accept" | "decline" | "cancel"))
                && answer
                    .get("content")
                    .is_none_or(|c| c.is_object() || c.is_null())
        }
        "sampling/createMessage" => {
            answer.get("role").is_some_and(Value::is_string)
                && answer
                    .get("content")
                    .is_some_and(|c| c.is_object() || c.is_array())
        }
        "roots/list" => answer
            .get("roots")
            .and_then(Value::as_array)
            .is_some_and(|roots| {
                roots
                    .iter()
                    .all(|r| r.get("uri").is_some_and(Value::is_string))
            }),
        _ => false,
    };
    if ok {
        Ok(answer.clone())
    } else {
        Err(RpcError::invalid_params(format!(
            "inputResponses[{key:?}] is not a valid result of {method}"
        )))
    }
}

/// Runs a content request on its own task and answers it in the configured mode.
pub(super) async fn run(app: &Arc<AppState>, prepared: Prepared) -> Response {
    let cancel = app.shutdown.child_token();
    let Prepared {
        id,
        method,
        params,
        meta,
        rounds,
        caller,
    } = prepared;
    let mut ctx = StatelessCtx {
        app: Arc::clone(app),
        out: None,
        log_level: meta.log_level,
        rounds,
        caller,
        cancel: cancel.clone(),
    };
    match app.config.response_mode {
        ResponseMode::Sse => {
            let (out, response) = sse::channel(&cancel);
            ctx.out = Some(out.clone());
            app.spawn(async move {
                if let Some(answer) = work(&ctx, &id, &method, &params).await {
                    out.send(&answer, &ctx.app.shutdown).await;
                }
            });
            response
        }
        ResponseMode::Json => {
            let (tx, rx) = oneshot::channel();
            // Dropped with this future when the client goes away: that cancels the work.
            let guard = cancel.drop_guard();
            app.spawn(async move {
                if let Some(answer) = work(&ctx, &id, &method, &params).await {
                    let _ = tx.send(answer);
                }
            });
            let answer = rx.await;
            guard.disarm();
            match answer {
                Ok(answer) => reply::json(StatusCode::OK, &answer),
                Err(_) => reply::status(StatusCode::SERVICE_UNAVAILABLE),
            }
        }
    }
}

/// The request's answer, or `None` when it was cancelled first.
async fn work(ctx: &StatelessCtx, id: &Value, method: &str, params: &Value) -> Option<Value> {
    let outcome = tokio::select! {
        outcome = demo::request(ctx, method, params) => Some(outcome),
        () = ctx.cancel.cancelled() => None,
    };
    // A tool that noticed the cancellation itself still sends nothing.
    let Some(outcome) = outcome.filter(|_| !ctx.cancel.is_cancelled()) else {
        if !ctx.app.shutdown.is_cancelled() {
            ctx.app.stats.update(|s| s.works_cancelled_by_close += 1);
        }
        return None;
    };
    let stats = &ctx.app.stats;
    if ctx.rounds.is_retry() {
        stats.update(|s| s.mrtr_retries += 1);
    }
    Some(match outcome {
        Ok(result) | Err(Halt::Tool(result)) => rpc::result(id, decorate(&ctx.app, method, result)),
        Err(Halt::Input) => {
            stats.update(|s| s.mrtr_rounds += 1);
            let binding = Binding::of(method, params, ctx.caller.as_deref());
            let mut result = ctx
                .rounds
                .input_required(&ctx.app.stateless.signer, &binding);
            result["_meta"] = json!({super::SERVER_INFO: demo::server_info()});
            rpc::result(id, result)
        }
        Err(Halt::Rpc(err)) => {
            stats.update(|s| *s.stateless_errors.entry(err.code).or_default() += 1);
            rpc::error_of(id, &err)
        }
    })
}
