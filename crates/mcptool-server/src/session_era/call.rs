//! One running session-era request: where its messages go and how it talks back to the client.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::events::StreamLog;
use super::session::{Session, lock};
use crate::demo::{self, Change, Halt};
use crate::rpc;

/// How long a tool waits for the client's answer to a server→client request.
const CLIENT_ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Where messages related to a request go.
#[derive(Debug)]
pub(super) enum Outlet {
    /// The request's own SSE stream.
    Stream(Arc<StreamLog>),
    /// A JSON response: related notifications are dropped, server requests use the GET stream.
    Json,
}

/// The context a session-era request runs in.
#[derive(Debug)]
pub(super) struct SessionCtx {
    pub(super) session: Arc<Session>,
    pub(super) out: Outlet,
    pub(super) page_size: usize,
    /// Cancelled by `notifications/cancelled` or when the session ends.
    pub(super) cancel: CancellationToken,
}

impl SessionCtx {
    /// Sends a request to the client and waits for its result.
    async fn ask_client(&self, method: &str, params: Value) -> Result<Value, String> {
        let (id, rx) = self.session.expect_answer();
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let sent = match &self.out {
            Outlet::Stream(log) => log.push(&message),
            Outlet::Json => self.session.push_standalone(&message),
        };
        let outcome = if sent {
            tokio::select! {
                answer = rx => answer.map_err(|_| "the session ended".to_owned()),
                () = self.cancel.cancelled() => Err("cancelled".to_owned()),
                () = tokio::time::sleep(CLIENT_ANSWER_TIMEOUT) => Err(format!("no answer to {method} in time")),
            }
        } else {
            Err(format!(
                "no open stream to send {method} to the client (open the GET stream)"
            ))
        };
        self.session.forget_answer(id);
        let answer = outcome?;
        if let Some(error) = answer.get("error") {
            return Err(format!(
                "the client answered {method} with an error: {error}"
            ));
        }
        Ok(answer.get("result").cloned().unwrap_or(Value::Null))
    }
}

impl demo::Ctx for SessionCtx {
    fn session_id(&self) -> Option<&str> {
        Some(&self.session.id)
    }

    fn page_size(&self) -> usize {
        self.page_size
    }

    fn scope(&self) -> &demo::Scope {
        &self.session.demo
    }

    fn resource_not_found_code(&self) -> i64 {
        rpc::RESOURCE_NOT_FOUND
    }

    fn changed(&self, change: Change) {
        // The session era announces only tool list changes (see `demo::capabilities`).
        if change != Change::Tools {
            return;
        }
        self.session
            .push_standalone(&rpc::notification(change.method(), change.params()));
    }

    fn progress(&self, params: Value) {
        if let Outlet::Stream(log) = &self.out {
            log.push(&rpc::notification("notifications/progress", params));
        }
    }

    fn log(&self, level: usize, params: Value) {
        if level >= lock(&self.session.state).log_level {
            self.session
                .push_standalone(&rpc::notification("notifications/message", params));
        }
    }

    async fn input(&self, _key: &str, method: &str, params: Value) -> Result<Value, Halt> {
        self.ask_client(method, params).await.map_err(|message| {
            Halt::Tool(json!({"content": [{"type": "text", "text": message}], "isError": true}))
        })
    }

    async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }
}
