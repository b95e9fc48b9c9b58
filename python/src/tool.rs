//! `mcptool.Tool`: the agent tool — a client plus the server's tools (and prompts) as
//! functions for a model, with approval, argument checks, timeouts and result conversion.

use mcptool::{
    ApprovalMode, Function, FunctionKind, McpStreamableHttpTool, OutputKind, ToolOutput,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::{Value, json};

use crate::callbacks::{self, LoopSlot};
use crate::client::PyClient;
use crate::convert::{Json, seconds};
use crate::errors::to_py_err;
use crate::future::spawn;
use crate::options::{ClientOptions, refuse_unknown, take, take_as};
use crate::shapes::{close_value, params_object, request_options};

/// The agent tool over one MCP server; one per agent run.
#[pyclass(name = "Tool", module = "mcptool._native", frozen)]
#[derive(Debug)]
pub(crate) struct PyTool {
    tool: McpStreamableHttpTool,
    slot: LoopSlot,
    url: String,
}

// By value, for `.map_err(err)`.
#[allow(clippy::needless_pass_by_value)]
fn err(e: mcptool::Error) -> PyErr {
    to_py_err(&e)
}

fn approval_mode(value: Option<Bound<'_, PyAny>>) -> PyResult<Option<ApprovalMode>> {
    let Some(value) = value else { return Ok(None) };
    if let Ok(text) = value.extract::<String>() {
        return match text.as_str() {
            "never_require" => Ok(Some(ApprovalMode::NeverRequire)),
            "always_require" => Ok(Some(ApprovalMode::AlwaysRequire)),
            other => Err(PyValueError::new_err(format!(
                "approval_mode must be \"never_require\", \"always_require\" or a dict, not {other:?}"
            ))),
        };
    }
    let dict = value.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err("approval_mode must be a str or a dict of lists of tool names")
    })?;
    let list = |key: &str| -> PyResult<Vec<String>> {
        Ok(dict
            .get_item(key)?
            .map(|v| v.extract())
            .transpose()?
            .unwrap_or_default())
    };
    for key in dict.keys() {
        let key: String = key.extract()?;
        if key != "always_require_approval" && key != "never_require_approval" {
            return Err(PyValueError::new_err(format!(
                "approval_mode keys are always_require_approval and never_require_approval, not {key:?}"
            )));
        }
    }
    Ok(Some(ApprovalMode::PerTool {
        always_require: list("always_require_approval")?,
        never_require: list("never_require_approval")?,
    }))
}

fn function_value(f: &Function) -> Value {
    json!({
        "name": f.name,
        "mcp_name": f.mcp_name,
        "kind": match f.kind { FunctionKind::Prompt => "prompt", _ => "tool" },
        "description": f.description,
        "parameters": f.parameters,
        "output_schema": f.output_schema,
        "annotations": f.annotations,
    })
}

fn output_value(out: &ToolOutput) -> Value {
    let mut value = out.to_value();
    if let Value::Object(map) = &mut value {
        let kind = match out.kind {
            OutputKind::Success => "success",
            OutputKind::ToolError => "tool_error",
            OutputKind::Denied => "denied",
            OutputKind::InvalidArguments => "invalid_arguments",
            _ => "other",
        };
        map.insert("kind".into(), kind.into());
        map.insert("function".into(), out.function.clone().into());
        map.insert("is_error".into(), out.is_error().into());
        map.insert("text".into(), out.text().into());
        let violations = |list: &[mcptool::SchemaViolation]| -> Value {
            list.iter()
                .map(|v| json!({"path": v.path, "message": v.message}))
                .collect()
        };
        map.insert(
            "argument_violations".into(),
            violations(&out.argument_violations),
        );
        map.insert(
            "output_violations".into(),
            violations(&out.output_violations),
        );
    }
    value
}

impl PyTool {
    fn build(py: Python<'_>, url: &str, kwargs: &Bound<'_, PyDict>) -> PyResult<PyTool> {
        let slot = LoopSlot::default();
        let name: Option<String> = take_as(kwargs, "name", "a str")?;
        let mut b = McpStreamableHttpTool::builder(name.unwrap_or_else(|| "mcp".into()), url);
        if let Some(d) = take_as::<String>(kwargs, "description", "a str")? {
            b = b.description(d);
        }
        if let Some(on) = take_as(kwargs, "load_tools", "a bool")? {
            b = b.load_tools(on);
        }
        if let Some(on) = take_as(kwargs, "load_prompts", "a bool")? {
            b = b.load_prompts(on);
        }
        if let Some(names) = take_as::<Vec<String>>(kwargs, "allowed_tools", "a list of str")? {
            b = b.allowed_tools(names);
        }
        if let Some(prefix) = take_as::<String>(kwargs, "tool_name_prefix", "a str")? {
            b = b.tool_name_prefix(prefix);
        }
        if let Some(mode) = approval_mode(take(kwargs, "approval_mode")?)? {
            b = b.approval_mode(mode);
        }
        if let Some(f) = take(kwargs, "approver")? {
            if !f.is_callable() {
                return Err(PyTypeError::new_err("approver must be callable"));
            }
            b = b.approver(callbacks::approver(
                std::sync::Arc::new(f.unbind()),
                slot.clone(),
            ));
        }
        if let Some(t) = take_as::<f64>(kwargs, "execution_timeout", "a number of seconds")? {
            b = b.execution_timeout(seconds("execution_timeout", t)?);
        }
        let options = ClientOptions::take(kwargs)?;
        refuse_unknown(kwargs, "Tool")?;
        let mut failed = None;
        b = b.client(|c| match options.apply(c.clone(), &slot) {
            Ok(c) => c,
            Err(e) => {
                failed = Some(e);
                c
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let _runtime = pyo3_async_runtimes::tokio::get_runtime().enter();
        let tool = b.build().map_err(err)?;
        let _ = py;
        Ok(PyTool {
            tool,
            slot,
            url: url.to_owned(),
        })
    }
}

#[pymethods]
impl PyTool {
    #[new]
    #[pyo3(signature = (url, **kwargs))]
    fn new(py: Python<'_>, url: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<PyTool> {
        let kwargs = match kwargs {
            Some(k) => k.copy()?,
            None => PyDict::new(py),
        };
        PyTool::build(py, url, &kwargs)
    }

    /// Connects and loads the functions.
    fn connect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.slot.set_current(py)?;
        let tool = self.tool.clone();
        spawn(py, async move {
            tool.connect().await?;
            Ok(())
        })
    }

    /// Ends the session and the pool. Idempotent.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let tool = self.tool.clone();
        spawn(py, async move {
            let outcome = tool.close().await?;
            Ok(Json(close_value(outcome)))
        })
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        slf.get().slot.set_current(py)?;
        let tool = slf.get().tool.clone();
        let me = slf.unbind();
        spawn(py, async move {
            tool.connect().await?;
            Ok(me)
        })
    }

    #[pyo3(signature = (*exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        exc: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let in_flight = exc.get_item(0).map(|e| !e.is_none()).unwrap_or(false);
        let tool = self.tool.clone();
        spawn(py, async move {
            match tool.close().await {
                Err(e) if !in_flight => Err(e.into()),
                _ => Ok(false),
            }
        })
    }

    #[getter]
    fn name(&self) -> &str {
        self.tool.name()
    }

    #[getter]
    fn description(&self) -> Option<&str> {
        self.tool.description()
    }

    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    #[getter]
    fn is_connected(&self) -> bool {
        self.tool.is_connected()
    }

    #[getter]
    fn session_id(&self) -> Option<String> {
        self.tool.session_id().map(|s| s.as_str().to_owned())
    }

    /// The connected client (sharing the tool's session and pool), or None.
    #[getter]
    fn client(&self) -> Option<PyClient> {
        self.tool
            .client()
            .map(|c| PyClient::wrap(c, self.slot.clone(), self.url.clone()))
    }

    fn functions(&self) -> Json {
        Json(self.tool.functions().iter().map(function_value).collect())
    }

    fn openai_tools(&self) -> Json {
        Json(self.tool.openai_tools().into())
    }

    fn openai_responses_tools(&self) -> Json {
        Json(
            self.tool
                .functions()
                .iter()
                .map(Function::to_openai_responses)
                .collect(),
        )
    }

    fn anthropic_tools(&self) -> Json {
        Json(self.tool.anthropic_tools().into())
    }

    /// Calls a function; the output for the model (see the stub for its keys).
    #[pyo3(signature = (name, arguments=None, *, timeout=None, on_progress=None))]
    fn invoke<'py>(
        &self,
        py: Python<'py>,
        name: String,
        arguments: Option<&Bound<'py, PyAny>>,
        timeout: Option<f64>,
        on_progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.slot.set_if_empty(py)?;
        let arguments = Value::Object(params_object(arguments, "arguments")?);
        let options = request_options(timeout, on_progress)?;
        let tool = self.tool.clone();
        spawn(py, async move {
            let out = tool.invoke_with(&name, arguments, &options).await?;
            Ok(Json(output_value(&out)))
        })
    }

    fn __repr__(&self) -> String {
        let state = if self.tool.is_connected() {
            "connected"
        } else {
            "not connected"
        };
        format!("<mcptool.Tool {:?} {}>", self.tool.name(), self.url)
            .replace('>', &format!(" ({state})>"))
    }
}
