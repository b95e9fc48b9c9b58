//! Answers to requests the server sends us: ping always, roots / sampling / elicitation when
//! the caller installed a handler (method-not-found otherwise).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::protocol::RpcError;

/// The future a server-request handler returns: the result object, or a JSON-RPC error.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>;

/// A handler for one kind of server→client request; it receives the request's `params`.
#[derive(Clone)]
pub struct Handler(Arc<dyn Fn(Value) -> HandlerFuture + Send + Sync>);

impl Handler {
    /// Wraps an async function of the request's params.
    pub fn new<F, Fut>(f: F) -> Handler
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, RpcError>> + Send + 'static,
    {
        Handler(Arc::new(move |params| Box::pin(f(params))))
    }

    pub(crate) fn call(&self, params: Value) -> HandlerFuture {
        (self.0)(params)
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(..)")
    }
}

/// The handlers a client was built with.
#[derive(Clone, Debug, Default)]
pub(crate) struct Handlers {
    pub(crate) roots: Option<Handler>,
    pub(crate) sampling: Option<Handler>,
    pub(crate) elicitation: Option<Handler>,
}

impl Handlers {
    /// Whether any server request besides ping has a handler.
    pub(crate) fn any(&self) -> bool {
        self.roots.is_some() || self.sampling.is_some() || self.elicitation.is_some()
    }

    /// The client capabilities these handlers let us declare at `initialize`.
    pub(crate) fn capabilities(&self) -> Value {
        let mut caps = serde_json::Map::new();
        if self.roots.is_some() {
            caps.insert("roots".into(), serde_json::json!({"listChanged": false}));
        }
        if self.sampling.is_some() {
            caps.insert("sampling".into(), serde_json::json!({}));
        }
        if self.elicitation.is_some() {
            caps.insert("elicitation".into(), serde_json::json!({}));
        }
        Value::Object(caps)
    }

    /// Answers one server request.
    pub(crate) async fn answer(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Value, RpcError> {
        let handler = match method {
            "ping" => return Ok(Value::Object(serde_json::Map::new())),
            "roots/list" => self.roots.as_ref(),
            "sampling/createMessage" => self.sampling.as_ref(),
            "elicitation/create" => self.elicitation.as_ref(),
            _ => None,
        };
        match handler {
            Some(h) => h.call(params.unwrap_or(Value::Null)).await,
            None => Err(RpcError::method_not_found(method)),
        }
    }
}

/// The longest our own answering may push a request past its timeout.
pub(crate) const MAX_ANSWER_ALLOWANCE: Duration = Duration::from_secs(15 * 60);

/// Whether one of our elicitation or sampling handlers is answering the server, and when one
/// last finished. While the server waits on us (a person filling in a form, a model writing),
/// the time is not the server's: request deadlines are pushed out by it, as progress pushes
/// them — by at most [`MAX_ANSWER_ALLOWANCE`] past a request's own timeout, so that a handler
/// that never returns cannot keep requests waiting for ever.
#[derive(Debug, Default)]
pub(crate) struct Answering {
    running: AtomicUsize,
    last_end: Mutex<Option<Instant>>,
}

/// Held while a handler runs.
pub(crate) struct AnsweringGuard<'a>(&'a Answering);

impl Drop for AnsweringGuard<'_> {
    fn drop(&mut self) {
        *self
            .0
            .last_end
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Answering {
    pub(crate) fn enter(&self) -> AnsweringGuard<'_> {
        self.running.fetch_add(1, Ordering::AcqRel);
        AnsweringGuard(self)
    }

    /// A request deadline of `timeout` that fell due at `now`, moved out past our own
    /// answering: `timeout` from now while a handler runs, from its end after; `None` when
    /// no handler ran within the last `timeout`.
    pub(crate) fn pushes(&self, now: Instant, timeout: Duration) -> Option<Instant> {
        if self.running.load(Ordering::Acquire) > 0 {
            return Some(now + timeout);
        }
        let last = *self.last_end.lock().unwrap_or_else(PoisonError::into_inner);
        last.map(|end| end + timeout).filter(|due| *due > now)
    }
}
