//! JSON-RPC 2.0 envelopes: classifying what the client sent, building what we send.

use serde_json::{Value, json};

/// The session-era protocol versions we negotiate with `initialize`, oldest first.
pub(crate) const SUPPORTED_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
/// The session-era version we prefer.
pub(crate) const LATEST_VERSION: &str = "2025-11-25";
/// The stateless protocol versions we serve: every request carries its version in `_meta`.
pub(crate) const STATELESS_VERSIONS: [&str; 1] = ["2026-07-28"];

pub(crate) const PARSE_ERROR: i64 = -32700;
pub(crate) const INVALID_REQUEST: i64 = -32600;
pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
pub(crate) const INVALID_PARAMS: i64 = -32602;
pub(crate) const INTERNAL_ERROR: i64 = -32603;
/// 2026-07-28: an HTTP header disagrees with the body, or is missing or malformed.
pub(crate) const HEADER_MISMATCH: i64 = -32020;
/// 2026-07-28: the request needs a client capability it did not declare.
pub(crate) const MISSING_CAPABILITY: i64 = -32021;
/// 2026-07-28: the request's protocol version is not one we serve.
pub(crate) const UNSUPPORTED_VERSION: i64 = -32022;
/// Session era: `resources/read` of an unknown resource (2026-07-28 uses -32602 instead).
pub(crate) const RESOURCE_NOT_FOUND: i64 = -32002;

/// The supported version equal to `v`, if any.
pub(crate) fn supported(v: &str) -> Option<&'static str> {
    SUPPORTED_VERSIONS.iter().copied().find(|s| *s == v)
}

/// The stateless version equal to `v`, if any.
pub(crate) fn stateless(v: &str) -> Option<&'static str> {
    STATELESS_VERSIONS.iter().copied().find(|s| *s == v)
}

/// One message the client sent.
#[derive(Debug)]
pub(crate) enum Incoming {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    Response {
        id: Value,
        message: Value,
    },
    Invalid {
        id: Value,
        reason: &'static str,
    },
}

impl Incoming {
    pub(crate) fn classify(message: Value) -> Self {
        let Value::Object(mut obj) = message else {
            return Self::Invalid {
                id: Value::Null,
                reason: "a JSON-RPC message must be an object",
            };
        };
        let id = obj.get("id").cloned();
        if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Self::Invalid {
                id: id.unwrap_or(Value::Null),
                reason: "jsonrpc must be \"2.0\"",
            };
        }
        let id_ok = |id: &Value| id.is_string() || id.is_i64() || id.is_u64();
        match (obj.remove("method"), id) {
            (Some(Value::String(method)), None) => Self::Notification {
                method,
                params: obj.remove("params").unwrap_or(Value::Null),
            },
            (Some(Value::String(method)), Some(id)) if id_ok(&id) => Self::Request {
                id,
                method,
                params: obj.remove("params").unwrap_or(Value::Null),
            },
            (Some(_), id) => Self::Invalid {
                id: id.unwrap_or(Value::Null),
                reason: "method must be a string and id a string or an integer",
            },
            (None, Some(id))
                if id_ok(&id) && (obj.contains_key("result") ^ obj.contains_key("error")) =>
            {
                Self::Response {
                    id,
                    message: Value::Object(obj),
                }
            }
            (None, id) => Self::Invalid {
                id: id.unwrap_or(Value::Null),
                reason: "not a request, notification or response",
            },
        }
    }
}

/// A JSON-RPC error to answer a request with.
#[derive(Debug)]
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
}

impl RpcError {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    #[must_use]
    pub(crate) fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub(crate) fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }
}

pub(crate) fn result(id: &Value, result: Value) -> Value {
    let mut message = json!({"jsonrpc": "2.0", "id": id});
    message["result"] = result;
    message
}

pub(crate) fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The error message for `err`, with its `data` when it has one.
pub(crate) fn error_of(id: &Value, err: &RpcError) -> Value {
    let mut message = error(id, err.code, &err.message);
    if let Some(data) = &err.data {
        message["error"]["data"] = data.clone();
    }
    message
}

pub(crate) fn notification(method: &str, params: Value) -> Value {
    let mut message = json!({"jsonrpc": "2.0", "method": method});
    message["params"] = params;
    message
}

/// The answer message to a request.
pub(crate) fn answer(id: &Value, outcome: Result<Value, RpcError>) -> Value {
    match outcome {
        Ok(value) => result(id, value),
        Err(err) => error_of(id, &err),
    }
}
