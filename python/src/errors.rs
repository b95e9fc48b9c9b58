//! Core errors as the exceptions of `mcptool.errors` (built there, by `_from_core`, so that
//! they are ordinary Python classes users can subclass and catch).

use mcptool::{AuthFailure, Deadline, Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert;

/// The exception for `err`, with its kind, status, JSON-RPC error, authorization step and
/// deadline as attributes.
pub(crate) fn to_py_err(err: &Error) -> PyErr {
    Python::attach(|py| core_error(py, err))
}

/// [`to_py_err`] with the GIL already held.
pub(crate) fn core_error(py: Python<'_>, err: &Error) -> PyErr {
    build(py, err).unwrap_or_else(|e| e)
}

fn build(py: Python<'_>, err: &Error) -> PyResult<PyErr> {
    let fields = PyDict::new(py);
    if let Some(status) = err.status() {
        fields.set_item("status", status)?;
    }
    if let Some(rpc) = err.rpc_error() {
        fields.set_item("code", rpc.code)?;
        if let Some(data) = &rpc.data {
            fields.set_item("data", convert::to_python(py, data)?)?;
        }
    }
    if let Some(failure) = err.auth_failure() {
        fields.set_item("auth_failure", auth_failure(failure))?;
    }
    if let Some(deadline) = err.deadline() {
        fields.set_item("deadline", deadline_name(deadline))?;
    }
    let exception = py.import("mcptool.errors")?.getattr("_from_core")?.call1((
        kind_of(err),
        describe(err),
        fields,
    ))?;
    Ok(PyErr::from_value(exception))
}

/// The error and its causes in one line: "cannot connect to ...: connection refused".
pub(crate) fn describe(err: &Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The error's kind; a JSON-RPC error is an `RpcError` whatever HTTP status carried it (the
/// 2026-07-28 era sends "method not found" with a 404, say), with `status` kept.
fn kind_of(err: &Error) -> &'static str {
    if err.rpc_error().is_some() {
        return "rpc";
    }
    match err.kind() {
        ErrorKind::Config => "config",
        ErrorKind::Connect => "connect",
        ErrorKind::Tls => "tls",
        ErrorKind::Network => "network",
        ErrorKind::Timeout => "timeout",
        ErrorKind::SessionExpired => "session_expired",
        ErrorKind::HttpStatus => "http_status",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Rpc => "rpc",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Closed => "closed",
        ErrorKind::Authorization => "authorization",
        _ => "error",
    }
}

fn auth_failure(failure: AuthFailure) -> &'static str {
    match failure {
        AuthFailure::Required => "required",
        AuthFailure::Metadata => "metadata",
        AuthFailure::Registration => "registration",
        AuthFailure::Denied => "denied",
        AuthFailure::Redirect => "redirect",
        AuthFailure::Token => "token",
        AuthFailure::Refused => "refused",
        AuthFailure::Store => "store",
        _ => "other",
    }
}

fn deadline_name(deadline: Deadline) -> &'static str {
    match deadline {
        Deadline::Connect => "connect",
        Deadline::Initialize => "initialize",
        Deadline::Request => "request",
        Deadline::MaxTotal => "max_total",
        Deadline::Execution => "execution",
        Deadline::SseIdle => "sse_idle",
        Deadline::Close => "close",
        _ => "other",
    }
}

/// A Python exception raised inside a callback, as one line for a core error message:
/// "KeyError: 'token'".
pub(crate) fn describe_py(err: &PyErr) -> String {
    crate::future::with_python(|py| {
        let name = err
            .get_type(py)
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "Exception".to_owned());
        let value = err
            .value(py)
            .str()
            .map(|s| s.to_string())
            .unwrap_or_default();
        if value.is_empty() {
            name
        } else {
            format!("{name}: {value}")
        }
    })
    .unwrap_or_else(|| EXITING.to_owned())
}

/// An `mcptool.ClosedError` with `message`.
pub(crate) fn closed(py: Python<'_>, message: &str) -> PyErr {
    let made = py
        .import("mcptool.errors")
        .and_then(|m| m.getattr("_from_core"))
        .and_then(|f| f.call1(("closed", message, PyDict::new(py))));
    match made {
        Ok(exception) => PyErr::from_value(exception),
        Err(e) => e,
    }
}

/// What a callback fails with when the interpreter is exiting.
pub(crate) const EXITING: &str = "the Python interpreter is exiting";

/// The error a method of an instance that is not usable raises.
pub(crate) fn runtime(message: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(message.into())
}
