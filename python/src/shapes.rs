//! The shapes that cross between Python and the core's calls: results as Python sees them
//! (without what only their protocol era put there), `close()` outcomes, call options and
//! params.

use std::sync::Arc;

use mcptool::protocol::InitializeResult;
use mcptool::{CloseOutcome, RequestOptions};
use pyo3::prelude::*;
use serde_json::{Map, Value, json};

use crate::callbacks;
use crate::convert::{self, seconds};

/// The server's initialize-shaped answer as a dict.
pub(crate) fn server_info_value(info: &InitializeResult) -> Value {
    serde_json::to_value(info).unwrap_or(Value::Null)
}

/// What `close()` did, as `{"outcome": ...}`.
pub(crate) fn close_value(outcome: CloseOutcome) -> Value {
    let name = match outcome {
        CloseOutcome::Deleted => "deleted",
        CloseOutcome::DeleteNotAllowed => "delete_not_allowed",
        CloseOutcome::NotTerminated => "not_terminated",
        CloseOutcome::NoSession => "no_session",
        CloseOutcome::Stateless => "stateless",
        CloseOutcome::AlreadyClosed => "already_closed",
        _ => "closed",
    };
    json!({ "outcome": name })
}

/// Request options from `timeout=` and `on_progress=`.
pub(crate) fn request_options(
    timeout: Option<f64>,
    on_progress: Option<Py<PyAny>>,
) -> PyResult<RequestOptions> {
    let mut options = RequestOptions::new();
    if let Some(t) = timeout {
        options = options.timeout(seconds("timeout", t)?);
    }
    if let Some(f) = on_progress {
        options = options.on_progress(callbacks::progress(Arc::new(f)));
    }
    Ok(options)
}

/// A result without what only its protocol era put there (`resultType`, the
/// `io.modelcontextprotocol/` keys of `_meta`), so that both eras give the same object.
pub(crate) fn without_era(mut result: Value) -> Value {
    if let Value::Object(map) = &mut result {
        map.remove("resultType");
    }
    without_era_meta(result)
}

/// A value without the `io.modelcontextprotocol/` keys of its `_meta` (a 2026-07-28
/// notification's subscription id, say), and without `_meta` if nothing else is left.
pub(crate) fn without_era_meta(mut value: Value) -> Value {
    if let Value::Object(map) = &mut value {
        let empty = match map.get_mut("_meta") {
            Some(Value::Object(meta)) => {
                meta.retain(|key, _| !key.starts_with("io.modelcontextprotocol/"));
                meta.is_empty()
            }
            _ => false,
        };
        if empty {
            map.remove("_meta");
        }
    }
    value
}

/// A request's or notification's params: absent (None) or a JSON object.
pub(crate) fn optional_params(params: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Value>> {
    match params {
        Some(p) if !p.is_none() => params_object(Some(p), "params").map(|m| Some(Value::Object(m))),
        _ => Ok(None),
    }
}

/// Params as a JSON object (None → no params).
pub(crate) fn params_object(
    params: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Map<String, Value>> {
    match params {
        None => Ok(Map::new()),
        Some(p) if p.is_none() => Ok(Map::new()),
        Some(p) => match convert::from_python(p)? {
            Value::Object(map) => Ok(map),
            _ => Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "{what} must be a dict"
            ))),
        },
    }
}
