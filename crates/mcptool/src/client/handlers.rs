//! Answers to requests the server sends us: ping always, roots / sampling / elicitation when
//! the caller installed a handler (method-not-found otherwise).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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
