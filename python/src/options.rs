//! The keyword options a `Client` or `Tool` takes for its connection, parsed once and applied
//! to the core's `ClientBuilder`. Unknown keywords are a `TypeError`, wrong values a
//! `ValueError`, both at construction: nothing is silently ignored.

use std::sync::Arc;
use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{ClientBuilder, ProtocolEra};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping};

use crate::callbacks::{self, Callable, LoopSlot};
use crate::convert::seconds;
use crate::oauth::PyOAuth;

/// What `protocol=` asked for.
#[derive(Debug, Clone, Copy)]
enum Protocol {
    Auto,
    Sessions,
    Version(ProtocolVersion),
}

/// The connection options of a `Client` (and of a `Tool`'s client).
#[derive(Debug)]
pub(crate) struct ClientOptions {
    headers: Vec<(String, String)>,
    header_provider: Option<Callable>,
    bearer_token: Option<String>,
    oauth: Option<Py<PyOAuth>>,
    protocol: Protocol,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    close_timeout: Option<Duration>,
    sse_idle_timeout: Option<Duration>,
    terminate_on_close: Option<bool>,
    standalone_stream: Option<bool>,
    max_message_bytes: Option<usize>,
    client_info: (Option<String>, Option<String>),
    on_sampling: Option<Callable>,
    on_elicitation: Option<Callable>,
    on_roots: Option<Callable>,
}

/// Takes `name` out of the keyword arguments, if present and not None.
pub(crate) fn take<'py>(
    kwargs: &Bound<'py, PyDict>,
    name: &str,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let value = kwargs.get_item(name)?;
    if value.is_some() {
        kwargs.del_item(name)?;
    }
    Ok(value.filter(|v| !v.is_none()))
}

/// Takes `name` and extracts it as `T`, with a `TypeError` naming the option.
pub(crate) fn take_as<T: for<'a, 'py> FromPyObjectOwned<'py>>(
    kwargs: &Bound<'_, PyDict>,
    name: &str,
    expected: &str,
) -> PyResult<Option<T>> {
    take(kwargs, name)?
        .map(|v| {
            v.extract::<T>()
                .map_err(|_| PyTypeError::new_err(format!("{name} must be {expected}")))
        })
        .transpose()
}

fn take_seconds(kwargs: &Bound<'_, PyDict>, name: &str) -> PyResult<Option<Duration>> {
    take_as::<f64>(kwargs, name, "a number of seconds")?
        .map(|s| seconds(name, s))
        .transpose()
}

fn take_callable(kwargs: &Bound<'_, PyDict>, name: &str) -> PyResult<Option<Callable>> {
    match take(kwargs, name)? {
        None => Ok(None),
        Some(v) if v.is_callable() => Ok(Some(Arc::new(v.unbind()))),
        Some(_) => Err(PyTypeError::new_err(format!("{name} must be callable"))),
    }
}

/// Refuses the keywords nobody took.
pub(crate) fn refuse_unknown(kwargs: &Bound<'_, PyDict>, owner: &str) -> PyResult<()> {
    match kwargs.keys().iter().next() {
        None => Ok(()),
        Some(key) => Err(PyTypeError::new_err(format!(
            "{owner}() got an unexpected keyword argument {}",
            key.repr()?
        ))),
    }
}

fn headers(value: Option<Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mapping = value
        .cast::<PyMapping>()
        .map_err(|_| PyTypeError::new_err("headers must be a mapping of str to str"))?;
    let mut out = Vec::new();
    for item in mapping.items()?.iter() {
        out.push(
            item.extract::<(String, String)>()
                .map_err(|_| PyTypeError::new_err("headers must be a mapping of str to str"))?,
        );
    }
    Ok(out)
}

fn protocol(value: Option<&str>) -> PyResult<Protocol> {
    match value {
        None | Some("auto") => Ok(Protocol::Auto),
        Some("sessions") => Ok(Protocol::Sessions),
        Some(version) => version
            .parse::<ProtocolVersion>()
            .map(Protocol::Version)
            .map_err(|_| {
                PyValueError::new_err(format!(
                    "protocol must be \"auto\", \"sessions\" or a protocol version such as \
                 \"2026-07-28\" or \"2025-11-25\", not {version:?}"
                ))
            }),
    }
}

impl ClientOptions {
    /// Takes the connection options out of `kwargs`.
    pub(crate) fn take(kwargs: &Bound<'_, PyDict>) -> PyResult<ClientOptions> {
        let oauth = match take(kwargs, "oauth")? {
            None => None,
            Some(v) => Some(
                v.extract::<Py<PyOAuth>>()
                    .map_err(|_| PyTypeError::new_err("oauth must be an mcptool.OAuth"))?,
            ),
        };
        let max_message_bytes = take_as::<usize>(kwargs, "max_message_bytes", "a positive int")?;
        if max_message_bytes == Some(0) {
            return Err(PyValueError::new_err("max_message_bytes must be positive"));
        }
        Ok(ClientOptions {
            headers: headers(take(kwargs, "headers")?)?,
            header_provider: take_callable(kwargs, "header_provider")?,
            bearer_token: take_as(kwargs, "bearer_token", "a str")?,
            oauth,
            protocol: protocol(take_as::<String>(kwargs, "protocol", "a str")?.as_deref())?,
            connect_timeout: take_seconds(kwargs, "connect_timeout")?,
            request_timeout: take_seconds(kwargs, "request_timeout")?,
            close_timeout: take_seconds(kwargs, "close_timeout")?,
            sse_idle_timeout: take_seconds(kwargs, "sse_idle_timeout")?,
            terminate_on_close: take_as(kwargs, "terminate_on_close", "a bool")?,
            standalone_stream: take_as(kwargs, "standalone_stream", "a bool")?,
            max_message_bytes,
            client_info: (
                take_as(kwargs, "client_name", "a str")?,
                take_as(kwargs, "client_version", "a str")?,
            ),
            on_sampling: take_callable(kwargs, "on_sampling")?,
            on_elicitation: take_callable(kwargs, "on_elicitation")?,
            on_roots: take_callable(kwargs, "on_roots")?,
        })
    }

    /// Whether `standalone_stream=True` was asked for.
    pub(crate) fn wants_standalone_stream(&self) -> bool {
        self.standalone_stream == Some(true)
    }

    /// Applies the options to a builder; Python callbacks run on `slot`'s event loop.
    pub(crate) fn apply(&self, mut b: ClientBuilder, slot: &LoopSlot) -> PyResult<ClientBuilder> {
        for (name, value) in &self.headers {
            b = b.header(name.clone(), value.clone());
        }
        if let Some(p) = &self.header_provider {
            b = b.header_provider(callbacks::header_provider(Arc::clone(p), slot.clone()));
        }
        if let Some(token) = &self.bearer_token {
            b = b.bearer_token(token);
        }
        if let Some(oauth) = &self.oauth {
            b = b.oauth(oauth.get().to_core(slot)?);
        }
        b = match self.protocol {
            Protocol::Auto => b.protocol_era(ProtocolEra::Auto),
            Protocol::Sessions => b.protocol_era(ProtocolEra::Session),
            Protocol::Version(v) => b.protocol_version(v),
        };
        b = self.apply_timeouts(b);
        if let Some(on) = self.terminate_on_close {
            b = b.terminate_on_close(on);
        }
        if let Some(on) = self.standalone_stream {
            b = b.standalone_stream(on);
        }
        if let Some(bytes) = self.max_message_bytes {
            b = b.max_message_bytes(bytes);
        }
        if self.client_info.0.is_some() || self.client_info.1.is_some() {
            let name = self
                .client_info
                .0
                .clone()
                .unwrap_or_else(|| "mcptool-python".into());
            let version = self
                .client_info
                .1
                .clone()
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").into());
            b = b.client_info(name, version);
        }
        Ok(self.apply_handlers(b, slot))
    }

    fn apply_timeouts(&self, mut b: ClientBuilder) -> ClientBuilder {
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(t) = self.request_timeout {
            b = b.request_timeout(t);
        }
        if let Some(t) = self.close_timeout {
            b = b.close_timeout(t);
        }
        if let Some(t) = self.sse_idle_timeout {
            b = b.sse_idle_timeout(t);
        }
        b
    }

    fn apply_handlers(&self, mut b: ClientBuilder, slot: &LoopSlot) -> ClientBuilder {
        if let Some(h) = &self.on_sampling {
            b = b.on_sampling(callbacks::handler(Arc::clone(h), slot.clone()));
        }
        if let Some(h) = &self.on_elicitation {
            b = b.on_elicitation(callbacks::handler(Arc::clone(h), slot.clone()));
        }
        if let Some(h) = &self.on_roots {
            b = b.on_roots(callbacks::handler(Arc::clone(h), slot.clone()));
        }
        b
    }
}
