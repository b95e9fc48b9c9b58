//! `mcptool.Client`: one MCP connection with its own session and pool, as asyncio methods.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mcptool::{Client, RequestOptions, ServerNotification};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{Mutex, broadcast};

use crate::callbacks::LoopSlot;
use crate::convert::Json;
use crate::errors::to_py_err;
use crate::future::spawn;
use crate::options::{ClientOptions, refuse_unknown};
use crate::shapes::{
    close_value, optional_params, params_object, request_options, server_info_value, without_era,
    without_era_meta,
};

type Notifications = Arc<Mutex<Option<broadcast::Receiver<ServerNotification>>>>;

/// How often a `next_notification()` waiter checks whether the client was closed.
const CLOSE_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// One MCP connection: its own session (when the era has one) and its own connection pool.
#[pyclass(name = "Client", module = "mcptool._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyClient {
    client: Client,
    slot: LoopSlot,
    url: String,
    notifications: Notifications,
    /// Whether `connect()` (or `async with`) ran: requests before it are refused.
    started: Arc<AtomicBool>,
}

impl PyClient {
    /// Wraps a core client (a tool's, sharing its session and pool).
    pub(crate) fn wrap(client: Client, slot: LoopSlot, url: String) -> PyClient {
        PyClient {
            client,
            slot,
            url,
            notifications: Arc::default(),
            started: Arc::new(AtomicBool::new(true)),
        }
    }

    /// Refuses a request before `connect()`; remembers the loop callbacks run on.
    fn ready(&self, py: Python<'_>) -> PyResult<()> {
        if !self.started.load(Ordering::SeqCst) {
            return Err(crate::errors::closed(
                py,
                "the client is not connected: call connect() first (or use `async with`)",
            ));
        }
        self.slot.set_if_empty(py)
    }

    fn start(&self, py: Python<'_>) -> PyResult<()> {
        self.started.store(true, Ordering::SeqCst);
        self.slot.set_current(py)
    }
}

// By value, for `.map_err(err)`.
#[allow(clippy::needless_pass_by_value)]
fn err(e: mcptool::Error) -> PyErr {
    to_py_err(&e)
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (url, **kwargs))]
    fn new(py: Python<'_>, url: String, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<PyClient> {
        let kwargs = match kwargs {
            Some(k) => k.copy()?,
            None => PyDict::new(py),
        };
        let options = ClientOptions::take(&kwargs)?;
        refuse_unknown(&kwargs, "Client")?;
        let slot = LoopSlot::default();
        let builder = options.apply(Client::builder(&url), &slot)?;
        let _runtime = pyo3_async_runtimes::tokio::get_runtime().enter();
        let client = builder.build().map_err(err)?;
        let wrapped = PyClient {
            started: Arc::new(AtomicBool::new(false)),
            ..PyClient::wrap(client, slot, url)
        };
        if options.wants_standalone_stream() {
            // The stream carries notifications from the start: keep them from the start too,
            // not only from the first next_notification().
            *wrapped.notifications.blocking_lock() = Some(wrapped.client.notifications());
        }
        Ok(wrapped)
    }

    /// Opens the connection; returns the server's initialize-shaped result.
    fn connect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.start(py)?;
        let client = self.client.clone();
        spawn(py, async move {
            let info = client.open().await?;
            Ok(Json(server_info_value(&info)))
        })
    }

    /// Ends the session and the pool. Idempotent.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        spawn(py, async move {
            let outcome = client.close().await?;
            Ok(Json(close_value(outcome)))
        })
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        slf.get().start(py)?;
        let client = slf.get().client.clone();
        let me = slf.unbind();
        spawn(py, async move {
            client.open().await?;
            Ok(me)
        })
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let in_flight = _exc.get_item(0).map(|e| !e.is_none()).unwrap_or(false);
        let client = self.client.clone();
        spawn(py, async move {
            match client.close().await {
                // An exception leaving the block matters more than a failed close.
                Err(e) if !in_flight => Err(e.into()),
                _ => Ok(false),
            }
        })
    }

    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    #[getter]
    fn is_connected(&self) -> bool {
        self.client.is_connected()
    }

    #[getter]
    fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    #[getter]
    fn session_id(&self) -> Option<String> {
        self.client.session_id().map(|s| s.as_str().to_owned())
    }

    #[getter]
    fn protocol_version(&self) -> Option<String> {
        self.client.protocol_version().map(|v| v.to_string())
    }

    #[getter]
    fn server_info(&self) -> Option<Json> {
        self.client
            .server_info()
            .map(|i| Json(server_info_value(&i)))
    }

    /// Any request; the result object as the server sent it.
    #[pyo3(signature = (method, params=None, *, timeout=None, on_progress=None))]
    fn request<'py>(
        &self,
        py: Python<'py>,
        method: String,
        params: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.ready(py)?;
        let params = optional_params(params)?;
        let options = request_options(timeout, on_progress)?;
        let client = self.client.clone();
        spawn(py, async move {
            let result: Value = client.request(&method, params.as_ref(), &options).await?;
            Ok(Json(without_era(result)))
        })
    }

    /// Sends a notification.
    #[pyo3(signature = (method, params=None))]
    fn notify<'py>(
        &self,
        py: Python<'py>,
        method: String,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.ready(py)?;
        let params = optional_params(params)?;
        let client = self.client.clone();
        spawn(py, async move {
            client.notify(&method, params.as_ref()).await?;
            Ok(())
        })
    }

    /// The next server notification, or None once the client is closed.
    fn next_notification<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.ready(py)?;
        let client = self.client.clone();
        let receiver = Arc::clone(&self.notifications);
        spawn(py, async move {
            let mut guard = receiver.lock().await;
            let rx = guard.get_or_insert_with(|| client.notifications());
            loop {
                if client.is_closed() {
                    return Ok(None);
                }
                // The channel outlives close(): look at the client's state now and then, so
                // that a waiter learns of the close instead of waiting forever.
                let Ok(received) = tokio::time::timeout(CLOSE_POLL, rx.recv()).await else {
                    continue;
                };
                match received {
                    Ok(n) => {
                        return Ok(Some(Json(json!({
                            "method": n.method,
                            "params": n.params.map(without_era_meta),
                        }))));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Ok(None),
                }
            }
        })
    }

    fn ping<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.ready(py)?;
        let client = self.client.clone();
        spawn(py, async move {
            client.ping().await?;
            Ok(())
        })
    }

    /// Every tool, following `nextCursor` through all pages.
    fn list_tools<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.listed(py, |c| async move { c.list_tools().await })
    }

    fn list_prompts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.listed(py, |c| async move { c.list_prompts().await })
    }

    fn list_resources<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.listed(py, |c| async move { c.list_resources().await })
    }

    fn list_resource_templates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.listed(py, |c| async move { c.list_resource_templates().await })
    }

    /// `tools/call`; the `CallToolResult` as sent.
    #[pyo3(signature = (name, arguments=None, *, timeout=None, on_progress=None))]
    fn call_tool<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        arguments: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.ready(py)?;
        let arguments = params_object(arguments, "arguments")?;
        let params = json!({ "name": name, "arguments": arguments });
        let options = request_options(timeout, on_progress)?;
        let client = self.client.clone();
        spawn(py, async move {
            let result: Value = client
                .request("tools/call", Some(&params), &options)
                .await?;
            Ok(Json(without_era(result)))
        })
    }

    #[pyo3(signature = (name, arguments=None))]
    fn get_prompt<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        arguments: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let arguments = params_object(arguments, "arguments")?;
        self.raw(
            py,
            "prompts/get",
            json!({ "name": name, "arguments": arguments }),
        )
    }

    fn read_resource<'py>(&self, py: Python<'py>, uri: &str) -> PyResult<Bound<'py, PyAny>> {
        self.raw(py, "resources/read", json!({ "uri": uri }))
    }

    fn set_logging_level<'py>(
        &self,
        py: Python<'py>,
        level: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.ready(py)?;
        let client = self.client.clone();
        spawn(py, async move {
            client.set_logging_level(&level).await?;
            Ok(())
        })
    }

    fn __repr__(&self) -> String {
        let state = if self.client.is_closed() {
            "closed"
        } else if self.client.is_connected() {
            "connected"
        } else {
            "not connected"
        };
        format!("<mcptool.Client {} ({state})>", self.url)
    }
}

impl PyClient {
    /// A paginated list, every page followed, as a list of dicts.
    fn listed<'py, F, Fut, T>(&self, py: Python<'py>, list: F) -> PyResult<Bound<'py, PyAny>>
    where
        F: FnOnce(Client) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<T>, mcptool::Error>> + Send + 'static,
        T: Serialize,
    {
        self.ready(py)?;
        let client = self.client.clone();
        spawn(py, async move {
            let items = list(client).await?;
            Ok(Json(serde_json::to_value(items).unwrap_or(Value::Null)))
        })
    }

    fn raw<'py>(
        &self,
        py: Python<'py>,
        method: &'static str,
        params: Value,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.ready(py)?;
        let client = self.client.clone();
        spawn(py, async move {
            let result: Value = client
                .request(method, Some(&params), &RequestOptions::default())
                .await?;
            Ok(Json(without_era(result)))
        })
    }
}
