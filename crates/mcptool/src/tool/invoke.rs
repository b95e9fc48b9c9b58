//! One invocation: look the function up, ask for approval, validate the arguments, call the
//! server under the execution deadline, convert the result.

use std::time::Instant;

use serde_json::{Map, Value, json};
use tracing::Instrument as _;

use super::McpStreamableHttpTool;
use super::approval::{ApprovalDecision, ApprovalRequest};
use super::functions::{Entry, FunctionKind};
use super::output::{SchemaViolation, ToolOutput};
use crate::client::{Client, RequestOptions};
use crate::error::{Deadline, Error};
use crate::protocol::{CallToolResult, GetPromptResult};

impl McpStreamableHttpTool {
    /// Calls the function `name` with `arguments` (a JSON object; `null` counts as `{}`).
    ///
    /// What the model should read comes back as `Ok`: the tool's result, its own failure
    /// (`isError`, [`OutputKind::ToolError`](super::OutputKind::ToolError)), a denied
    /// approval (the server never sees the call) or arguments that break the schema (ditto,
    /// with every violation listed). `Err` is for the caller: an unknown function, a tool
    /// that is not connected, a network failure, a timeout, an expired session.
    pub async fn invoke(&self, name: &str, arguments: Value) -> Result<ToolOutput, Error> {
        self.invoke_with(name, arguments, &RequestOptions::default())
            .await
    }

    /// [`invoke`](Self::invoke) with a timeout, progress callback or cancellation token for
    /// the server request.
    pub async fn invoke_with(
        &self,
        name: &str,
        arguments: Value,
        options: &RequestOptions,
    ) -> Result<ToolOutput, Error> {
        let span = tracing::debug_span!("invoke", tool = %self.inner.config.name, function = name);
        async {
            let started = Instant::now();
            let result = self.invoke_inner(name, arguments, options).await;
            tracing::debug!(
                elapsed_us = started.elapsed().as_micros() as u64,
                ok = result.is_ok(),
                "invoked"
            );
            result
        }
        .instrument(span)
        .await
    }

    async fn invoke_inner(
        &self,
        name: &str,
        arguments: Value,
        options: &RequestOptions,
    ) -> Result<ToolOutput, Error> {
        let client = self.connected_client()?;
        let catalog = self.inner.catalog.snapshot();
        let entry = catalog
            .get(name)
            .ok_or_else(|| Error::config(format!("unknown function {name:?}")))?;
        let arguments = match arguments {
            Value::Null => Value::Object(Map::new()),
            other => other,
        };
        if let Some(denied) = self.approve(name, entry, &arguments).await {
            return Ok(denied);
        }
        if !arguments.is_object() {
            let violation = SchemaViolation {
                path: String::new(),
                message: format!(
                    "arguments must be a JSON object, not {}",
                    json_type(&arguments)
                ),
            };
            return Ok(ToolOutput::invalid_arguments(name, vec![violation]));
        }
        if let Some(schema) = &entry.input {
            let violations = schema.violations(&arguments);
            if !violations.is_empty() {
                return Ok(ToolOutput::invalid_arguments(name, violations));
            }
        }
        let call = call(&client, name, entry, arguments, options);
        match self.inner.config.execution_timeout {
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .map_err(|_| Error::timeout(Deadline::Execution))?,
            None => call.await,
        }
    }

    /// `None` when the call may run; the denial to return otherwise.
    async fn approve(&self, name: &str, entry: &Entry, arguments: &Value) -> Option<ToolOutput> {
        let config = &self.inner.config;
        if !config.approval.requires_approval(&entry.function.mcp_name) {
            return None;
        }
        let decision = match &config.approver {
            Some(approver) => {
                approver
                    .decide(ApprovalRequest {
                        function: name.to_owned(),
                        mcp_name: entry.function.mcp_name.clone(),
                        arguments: arguments.clone(),
                    })
                    .await
            }
            None => ApprovalDecision::Deny {
                reason: Some("approval is required and no approver is configured".to_owned()),
            },
        };
        match decision {
            ApprovalDecision::Approve => None,
            ApprovalDecision::Deny { reason } => {
                tracing::debug!(function = name, "call denied");
                Some(ToolOutput::denied(name, reason.as_deref()))
            }
        }
    }
}

async fn call(
    client: &Client,
    name: &str,
    entry: &Entry,
    arguments: Value,
    options: &RequestOptions,
) -> Result<ToolOutput, Error> {
    let mcp_name = entry.function.mcp_name.as_str();
    match entry.function.kind {
        FunctionKind::Tool => {
            let result: CallToolResult =
                client.call_tool_with(mcp_name, arguments, options).await?;
            let mut output = ToolOutput::from_call(name, result);
            if let (Some(schema), false) = (&entry.output, output.is_error()) {
                output.output_violations = match &output.structured_content {
                    Some(structured) => schema.violations(structured),
                    None => vec![SchemaViolation {
                        path: String::new(),
                        message: "the tool declares an output schema but returned no \
                                  structuredContent"
                            .to_owned(),
                    }],
                };
                if !output.output_violations.is_empty() {
                    tracing::debug!(
                        function = name,
                        "structuredContent breaks the output schema"
                    );
                }
            }
            Ok(output)
        }
        FunctionKind::Prompt => {
            let params = json!({"name": mcp_name, "arguments": arguments});
            let result: GetPromptResult = client
                .request("prompts/get", Some(&params), options)
                .await?;
            Ok(ToolOutput::from_prompt(name, result))
        }
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
