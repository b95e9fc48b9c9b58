//! Demo tool definitions: what `tools/list` shows, and what each tool needs of the client.

use serde_json::{Value, json};

use super::LOG_LEVELS;

fn tool(name: &str, description: &str, properties: Value, required: &[&str]) -> Value {
    let mut tool = json!({
        "name": name,
        "description": description,
        "inputSchema": {"type": "object", "required": required},
    });
    tool["inputSchema"]["properties"] = properties;
    tool
}

/// The tool list, built once: with and without the toggled `extra` tool.
static DEFINITIONS: std::sync::LazyLock<[Vec<Value>; 2]> =
    std::sync::LazyLock::new(|| [build_definitions(false), build_definitions(true)]);

/// The tools a scope sees (`extra` when `toggle_tools` added it).
pub(super) fn definitions(extra: bool) -> &'static [Value] {
    &DEFINITIONS[usize::from(extra)]
}

/// The definition of the tool `name`, as the scope sees the list.
pub(crate) fn definition(name: &str, extra: bool) -> Option<&'static Value> {
    definitions(extra).iter().find(|t| t["name"] == name)
}

/// The client capability a tool needs (to ask the user, the model or the roots), if any.
pub(crate) fn required_capability(name: &str) -> Option<&'static str> {
    match name {
        "ask" | "survey" => Some("elicitation"),
        "sample" => Some("sampling"),
        "roots" => Some("roots"),
        _ => None,
    }
}

/// The input schema's properties of a tool without parameters.
fn no_params() -> Value {
    json!({})
}

fn build_definitions(extra: bool) -> Vec<Value> {
    let mut tools = content_tools();
    tools.extend(client_tools());
    tools.extend(change_tools());
    tools.extend(header_tools());
    if extra {
        tools.push(tool(
            "extra",
            "A tool that comes and goes with toggle_tools",
            json!({}),
            &[],
        ));
    }
    tools
}

/// Tools whose result is content: text, numbers, media, resources, errors.
fn content_tools() -> Vec<Value> {
    let mut add = tool(
        "add",
        "Add two numbers",
        json!({"a": {"type": "number"}, "b": {"type": "number"}}),
        &["a", "b"],
    );
    add["outputSchema"] =
        json!({"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]});
    let mut whoami = tool(
        "whoami",
        "Return the session id this call runs in",
        no_params(),
        &[],
    );
    whoami["outputSchema"] = json!({"type": "object", "properties": {"session_id": {"type": "string"}}, "required": ["session_id"]});
    vec![
        tool(
            "echo",
            "Echo a message",
            json!({"message": {"type": "string"}}),
            &["message"],
        ),
        add,
        tool(
            "sleep",
            "Sleep, sending progress notifications; stops when cancelled",
            json!({"ms": {"type": "integer", "minimum": 0}, "steps": {"type": "integer", "minimum": 0}}),
            &["ms"],
        ),
        tool(
            "big",
            "Return a text of N bytes",
            json!({"bytes": {"type": "integer", "minimum": 0}}),
            &["bytes"],
        ),
        tool("image", "Return a tiny PNG image", no_params(), &[]),
        tool("audio", "Return a tiny WAV sound", no_params(), &[]),
        tool(
            "resource_link",
            "Return a link to a resource",
            no_params(),
            &[],
        ),
        tool(
            "embedded_resource",
            "Return two embedded resources (text and blob)",
            no_params(),
            &[],
        ),
        tool("fail", "Always fail with isError", no_params(), &[]),
        whoami,
        tool(
            "log",
            "Send a log message (session era: on the GET stream; 2026-07-28: on the call's own stream)",
            json!({"level": {"type": "string", "enum": LOG_LEVELS}, "message": {"type": "string"}}),
            &["level", "message"],
        ),
    ]
}

/// Tools that need input from the client: the user, the model or the roots.
fn client_tools() -> Vec<Value> {
    vec![
        tool(
            "ask",
            "Ask the user a question (elicitation)",
            json!({"question": {"type": "string"}}),
            &["question"],
        ),
        tool(
            "sample",
            "Ask the client's model (sampling)",
            json!({"prompt": {"type": "string"}}),
            &["prompt"],
        ),
        tool("roots", "List the client's roots", no_params(), &[]),
        tool(
            "survey",
            "Ask the user two questions in turn, each with a default (two rounds of elicitation)",
            no_params(),
            &[],
        ),
    ]
}

/// Tools that change the lists or a resource, announcing it.
fn change_tools() -> Vec<Value> {
    vec![
        tool(
            "toggle_tools",
            "Add or remove the `extra` tool (sends list_changed)",
            no_params(),
            &[],
        ),
        tool(
            "toggle_prompts",
            "Add or remove the `extra` prompt (sends list_changed)",
            no_params(),
            &[],
        ),
        tool(
            "toggle_resources",
            "Add or remove the `demo://extra` resource (sends list_changed)",
            no_params(),
            &[],
        ),
        tool(
            "touch_resource",
            "Announce an update of a resource (notifications/resources/updated)",
            json!({"uri": {"type": "string"}}),
            &["uri"],
        ),
    ]
}

/// Tools whose parameters travel in `Mcp-Param-*` headers too (2026-07-28).
fn header_tools() -> Vec<Value> {
    vec![
        tool(
            "route",
            "Echo parameters that travel in Mcp-Param-* headers as well as in the body",
            json!({
                "region": {"type": "string", "x-mcp-header": "Region"},
                "priority": {"type": "integer", "x-mcp-header": "Priority"},
                "urgent": {"type": "boolean", "x-mcp-header": "Urgent"},
                "target": {
                    "type": "object",
                    "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}},
                },
                "note": {"type": "string"},
            }),
            &["region"],
        ),
        tool(
            "bad_header",
            "A tool whose x-mcp-header annotation is invalid (on a number): clients must leave it out",
            json!({"ratio": {"type": "number", "x-mcp-header": "Ratio"}}),
            &[],
        ),
    ]
}
