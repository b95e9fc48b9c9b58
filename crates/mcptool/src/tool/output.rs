//! What an invocation gives back: the server's result kept whole, or a refusal the model can
//! read (denied, invalid arguments).

use std::fmt;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::protocol::{CallToolResult, Content, GetPromptResult, PromptMessage, ResourceContents};

/// How an invocation ended, when it ended with an answer for the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OutputKind {
    /// The tool ran and succeeded (or the prompt was rendered).
    Success,
    /// The tool ran and reported a failure (`isError: true`).
    ToolError,
    /// The call needed approval and did not get it; the server never saw it.
    Denied,
    /// The arguments do not match the function's schema; the server never saw the call.
    InvalidArguments,
}

/// One way a JSON value breaks a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaViolation {
    /// JSON pointer to the offending value (empty for the whole value).
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

/// The result of [`invoke`](super::McpStreamableHttpTool::invoke), for the model.
///
/// Nothing the server sent is dropped: every content block (unknown kinds as raw JSON),
/// `structuredContent` and `_meta` are here, and [`ToolOutput::to_value`] gives them back in
/// the MCP shape. [`ToolOutput::text`] is a plain-text rendering for models that want one.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ToolOutput {
    /// The function that was invoked.
    pub function: String,
    /// How it ended.
    pub kind: OutputKind,
    /// The content blocks (for a prompt, the content of each message, in order).
    pub content: Vec<Content>,
    /// The tool's structured result.
    pub structured_content: Option<Value>,
    /// The result's `_meta`.
    pub meta: Option<Value>,
    /// A rendered prompt's messages, roles included (empty for tools).
    pub messages: Vec<PromptMessage>,
    /// For [`OutputKind::InvalidArguments`]: what is wrong with the arguments.
    pub argument_violations: Vec<SchemaViolation>,
    /// How `structuredContent` breaks the tool's `outputSchema` (empty when it conforms or
    /// the tool declares no schema). The result is kept as sent either way.
    pub output_violations: Vec<SchemaViolation>,
}

impl ToolOutput {
    fn new(function: &str, kind: OutputKind) -> ToolOutput {
        ToolOutput {
            function: function.to_owned(),
            kind,
            content: Vec::new(),
            structured_content: None,
            meta: None,
            messages: Vec::new(),
            argument_violations: Vec::new(),
            output_violations: Vec::new(),
        }
    }

    fn text_block(text: String) -> Content {
        Content::Text {
            text,
            extra: Map::new(),
        }
    }

    pub(crate) fn from_call(function: &str, result: CallToolResult) -> ToolOutput {
        let kind = if result.is_error {
            OutputKind::ToolError
        } else {
            OutputKind::Success
        };
        let mut output = ToolOutput::new(function, kind);
        output.content = result.content;
        output.structured_content = result.structured_content;
        output.meta = result.meta;
        output
    }

    pub(crate) fn from_prompt(function: &str, result: GetPromptResult) -> ToolOutput {
        let mut output = ToolOutput::new(function, OutputKind::Success);
        output.content = result.messages.iter().map(|m| m.content.clone()).collect();
        output.messages = result.messages;
        if let Some(description) = result.description {
            output.meta = Some(json!({ "description": description }));
        }
        output
    }

    pub(crate) fn denied(function: &str, reason: Option<&str>) -> ToolOutput {
        let mut output = ToolOutput::new(function, OutputKind::Denied);
        let text = match reason {
            Some(r) => format!("The call to {function} was not approved: {r}. It did not run."),
            None => format!("The call to {function} was not approved. It did not run."),
        };
        output.content.push(ToolOutput::text_block(text));
        output
    }

    pub(crate) fn invalid_arguments(
        function: &str,
        violations: Vec<SchemaViolation>,
    ) -> ToolOutput {
        let mut output = ToolOutput::new(function, OutputKind::InvalidArguments);
        let mut text = format!(
            "The arguments for {function} do not match its parameter schema, so it did not \
             run. Fix these and call it again:"
        );
        for v in &violations {
            let _ = write!(text, "\n- {v}");
        }
        output.content.push(ToolOutput::text_block(text));
        output.argument_violations = violations;
        output
    }

    /// Whether the model should read this as a failure (anything but success).
    pub fn is_error(&self) -> bool {
        self.kind != OutputKind::Success
    }

    /// The output in the MCP `CallToolResult` shape (`content`, `structuredContent`,
    /// `isError`, `_meta`), plus `messages` for a prompt — nothing dropped.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert(
            "content".into(),
            serde_json::to_value(&self.content).unwrap_or(Value::Null),
        );
        if let Some(s) = &self.structured_content {
            map.insert("structuredContent".into(), s.clone());
        }
        map.insert("isError".into(), Value::from(self.is_error()));
        if let Some(m) = &self.meta {
            map.insert("_meta".into(), m.clone());
        }
        if !self.messages.is_empty() {
            map.insert(
                "messages".into(),
                serde_json::to_value(&self.messages).unwrap_or(Value::Null),
            );
        }
        Value::Object(map)
    }

    /// A plain-text rendering: text blocks as they are, other blocks described in one line,
    /// unknown kinds as their JSON; the structured result when there is no text.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.messages.is_empty() {
            for block in &self.content {
                push_line(&mut out, &describe(block));
            }
        } else {
            for message in &self.messages {
                push_line(
                    &mut out,
                    &format!("{}: {}", message.role, describe(&message.content)),
                );
            }
        }
        if out.is_empty()
            && let Some(s) = &self.structured_content
        {
            out = s.to_string();
        }
        if !self.output_violations.is_empty() {
            push_line(
                &mut out,
                "(note: the structured result does not match the tool's output schema)",
            );
        }
        out
    }
}

fn push_line(out: &mut String, line: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(line);
}

fn describe(block: &Content) -> String {
    match block {
        Content::Text { text, .. } => text.clone(),
        Content::Image {
            data, mime_type, ..
        } => format!("[image {mime_type}, {} bytes base64]", data.len()),
        Content::Audio {
            data, mime_type, ..
        } => format!("[audio {mime_type}, {} bytes base64]", data.len()),
        Content::ResourceLink { uri, name, .. } => format!("[resource link {name}: {uri}]"),
        Content::Resource { resource, .. } => match resource {
            ResourceContents::Text { uri, text, .. } => format!("[resource {uri}]\n{text}"),
            ResourceContents::Blob {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "[resource {uri}, {}, {} bytes base64]",
                mime_type.as_deref().unwrap_or("binary"),
                blob.len()
            ),
        },
        Content::Unknown(raw) => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_content_and_meta_survive_conversion() {
        let raw = json!({
            "content": [{"type": "hologram", "frames": 3}, {"type": "text", "text": "hi"}],
            "structuredContent": {"x": 1},
            "_meta": {"trace": "abc"},
        });
        let result: CallToolResult = serde_json::from_value(raw).expect("result");
        let output = ToolOutput::from_call("f", result);
        let back = output.to_value();
        assert_eq!(back["content"][0], json!({"type": "hologram", "frames": 3}));
        assert_eq!(back["structuredContent"], json!({"x": 1}));
        assert_eq!(back["_meta"], json!({"trace": "abc"}));
        assert_eq!(back["isError"], json!(false));
        assert!(output.text().contains("hologram"));
    }
}
