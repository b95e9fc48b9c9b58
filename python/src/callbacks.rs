//! Python callables run by the core: the header provider, the server-request handlers, the
//! approver and the OAuth authorize step.
//!
//! The core calls them from its tokio threads. A plain function runs there under the GIL; a
//! coroutine function's coroutine is scheduled on the event loop that connected the instance
//! (remembered in a [`LoopSlot`]) and awaited from Rust, so it runs where the user's asyncio
//! code lives. An exception fails that one request with a message naming it; it never
//! unwinds into the core.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use mcptool::protocol::RpcError;
use mcptool::{ApprovalDecision, ApprovalRequest, Approver, Handler, HeaderProvider};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping};
use pyo3_async_runtimes::TaskLocals;
use serde_json::{Value, json};

use crate::convert;
use crate::errors::{EXITING, describe_py};
use crate::future::with_python;

/// The event loop (and context) of the instance's last `connect()`: where its async
/// callbacks run.
#[derive(Clone, Debug, Default)]
pub(crate) struct LoopSlot(Arc<Mutex<Option<TaskLocals>>>);

impl LoopSlot {
    /// Remembers the running event loop of the calling coroutine.
    pub(crate) fn set_current(&self, py: Python<'_>) -> PyResult<()> {
        let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(locals);
        Ok(())
    }

    /// Like [`set_current`](Self::set_current), only when no loop is remembered yet.
    pub(crate) fn set_if_empty(&self, py: Python<'_>) -> PyResult<()> {
        if self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
        {
            self.set_current(py)?;
        }
        Ok(())
    }

    fn get(&self) -> Option<TaskLocals> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A Python callable shared by the closures the core keeps.
pub(crate) type Callable = Arc<Py<PyAny>>;

type PyFuture = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

/// Calls `callable` (with `arg` as its one argument, if any) and awaits its result when it is
/// awaitable.
async fn call(callable: &Callable, slot: &LoopSlot, arg: Option<Value>) -> PyResult<Py<PyAny>> {
    let locals = slot.get();
    let started = with_python(|py| -> PyResult<Result<Py<PyAny>, PyFuture>> {
        let out = match &arg {
            Some(value) => callable.call1(py, (convert::to_python(py, value)?,))?,
            None => callable.call0(py)?,
        };
        let bound = out.bind(py);
        if !bound.hasattr(pyo3::intern!(py, "__await__"))? {
            return Ok(Ok(out));
        }
        let Some(locals) = locals else {
            return Err(crate::errors::runtime(
                "an async callback was called before connect(): no event loop to run it on",
            ));
        };
        let future = pyo3_async_runtimes::into_future_with_locals(&locals, bound.clone())?;
        Ok(Err(Box::pin(future)))
    })
    .unwrap_or_else(|| Err(crate::errors::runtime(EXITING)))?;
    match started {
        Ok(value) => Ok(value),
        Err(future) => future.await,
    }
}

/// The core's header provider for a Python callable returning a mapping of headers.
pub(crate) fn header_provider(callable: Callable, slot: LoopSlot) -> HeaderProvider {
    HeaderProvider::new(move || {
        let (callable, slot) = (Arc::clone(&callable), slot.clone());
        async move {
            let out = call(&callable, &slot, None)
                .await
                .map_err(|e| describe_py(&e))?;
            with_python(|py| headers(out.bind(py)))
                .unwrap_or_else(|| Err(crate::errors::runtime(EXITING)))
                .map_err(|e| describe_py(&e))
        }
    })
}

fn headers(value: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    if value.is_none() {
        return Ok(Vec::new());
    }
    let mapping = value.cast::<PyMapping>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(
            "the header provider must return a mapping of header names to values",
        )
    })?;
    let mut out = Vec::new();
    for item in mapping.items()?.iter() {
        let (name, value): (String, String) = item.extract().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err("header names and values must be str")
        })?;
        out.push((name, value));
    }
    Ok(out)
}

/// The core's handler of one kind of server request, answered by a Python callable of the
/// request's params. An `mcptool.RpcError` it raises becomes that JSON-RPC error.
pub(crate) fn handler(callable: Callable, slot: LoopSlot) -> Handler {
    Handler::new(move |params: Value| {
        let (callable, slot) = (Arc::clone(&callable), slot.clone());
        async move {
            match call(&callable, &slot, Some(params)).await {
                Ok(out) => with_python(|py| convert::from_python(out.bind(py)))
                    .unwrap_or_else(|| Err(crate::errors::runtime(EXITING)))
                    .map_err(|e| rpc_error(&e)),
                Err(e) => Err(rpc_error(&e)),
            }
        }
    })
}

fn rpc_error(err: &PyErr) -> RpcError {
    with_python(|py| {
        let value = err.value(py);
        let is_rpc = py
            .import("mcptool.errors")
            .and_then(|m| m.getattr("RpcError"))
            .map(|class| value.is_instance(&class).unwrap_or(false))
            .unwrap_or(false);
        if is_rpc {
            let code = value
                .getattr("code")
                .and_then(|c| c.extract::<i64>())
                .unwrap_or(-32603);
            let message = value
                .getattr("message")
                .and_then(|m| m.extract::<String>())
                .unwrap_or_else(|_| describe_py(err));
            let data = value
                .getattr("data")
                .ok()
                .filter(|d| !d.is_none())
                .and_then(|d| convert::from_python(&d).ok());
            RpcError {
                code,
                message,
                data,
            }
        } else {
            RpcError {
                code: -32603,
                message: format!("the client's handler failed: {}", describe_py(err)),
                data: None,
            }
        }
    })
    .unwrap_or_else(|| RpcError {
        code: -32603,
        message: EXITING.to_owned(),
        data: None,
    })
}

/// The core's approver for a Python callable: True approves, False or a string (the reason)
/// denies; an exception denies with its message.
pub(crate) fn approver(callable: Callable, slot: LoopSlot) -> Approver {
    Approver::new(move |request: ApprovalRequest| {
        let (callable, slot) = (Arc::clone(&callable), slot.clone());
        async move {
            let arg = json!({
                "function": request.function,
                "mcp_name": request.mcp_name,
                "arguments": request.arguments,
            });
            match call(&callable, &slot, Some(arg)).await {
                Ok(out) => {
                    with_python(|py| decision(out.bind(py))).unwrap_or(ApprovalDecision::Deny {
                        reason: Some(EXITING.to_owned()),
                    })
                }
                Err(e) => ApprovalDecision::Deny {
                    reason: Some(format!("the approver failed: {}", describe_py(&e))),
                },
            }
        }
    })
}

fn decision(out: &Bound<'_, PyAny>) -> ApprovalDecision {
    if let Ok(reason) = out.extract::<String>() {
        return ApprovalDecision::Deny {
            reason: Some(reason),
        };
    }
    match out.is_truthy() {
        Ok(true) => ApprovalDecision::Approve,
        _ => ApprovalDecision::Deny { reason: None },
    }
}

/// The OAuth authorize step for a Python callable from the authorization URL to the redirect
/// URL the user came back with.
pub(crate) fn authorize(
    callable: Callable,
    slot: LoopSlot,
) -> impl Fn(String) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send>>
+ Send
+ Sync
+ 'static {
    move |url: String| {
        let (callable, slot) = (Arc::clone(&callable), slot.clone());
        Box::pin(async move {
            let out = call(&callable, &slot, Some(Value::String(url)))
                .await
                .map_err(|e| describe_py(&e))?;
            with_python(|py| out.bind(py).extract::<String>())
                .ok_or_else(|| EXITING.to_owned())?
                .map_err(|_| "authorize must return the redirect URL, a str".to_owned())
        })
    }
}

/// A progress callback for a request: each notification as a dict.
pub(crate) fn progress(callable: Callable) -> impl Fn(mcptool::Progress) + Send + Sync + 'static {
    move |p: mcptool::Progress| {
        with_python(|py| {
            let dict = PyDict::new(py);
            let _ = dict.set_item("progress", p.progress);
            let _ = dict.set_item("total", p.total);
            let _ = dict.set_item("message", p.message.as_deref());
            if let Err(e) = callable.call1(py, (dict,)) {
                e.print(py);
            }
        });
    }
}
