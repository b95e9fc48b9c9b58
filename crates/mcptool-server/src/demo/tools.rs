//! Demo tools.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use super::{LOG_LEVELS, media, resources};
use crate::call::CallCtx;
use crate::rpc::{self, RpcError};
use crate::session::lock;

/// The largest `big` result.
const MAX_BIG: u64 = 32 * 1024 * 1024;
/// The longest `sleep`.
const MAX_SLEEP_MS: u64 = 10 * 60 * 1000;

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

/// The tools a session sees (`extra` when `toggle_tools` added it).
pub(super) fn definitions(extra: bool) -> &'static [Value] {
    &DEFINITIONS[usize::from(extra)]
}

fn build_definitions(extra: bool) -> Vec<Value> {
    let none = json!({});
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
        none.clone(),
        &[],
    );
    whoami["outputSchema"] = json!({"type": "object", "properties": {"session_id": {"type": "string"}}, "required": ["session_id"]});
    let mut tools = vec![
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
        tool("image", "Return a tiny PNG image", none.clone(), &[]),
        tool("audio", "Return a tiny WAV sound", none.clone(), &[]),
        tool(
            "resource_link",
            "Return a link to a resource",
            none.clone(),
            &[],
        ),
        tool(
            "embedded_resource",
            "Return two embedded resources (text and blob)",
            none.clone(),
            &[],
        ),
        tool("fail", "Always fail with isError", none.clone(), &[]),
        whoami,
        tool(
            "toggle_tools",
            "Add or remove the `extra` tool (sends list_changed)",
            none.clone(),
            &[],
        ),
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
        tool("roots", "List the client's roots", none.clone(), &[]),
        tool(
            "log",
            "Send a log message on the GET stream",
            json!({"level": {"type": "string", "enum": LOG_LEVELS}, "message": {"type": "string"}}),
            &["level", "message"],
        ),
    ];
    if extra {
        tools.push(tool(
            "extra",
            "A tool that comes and goes with toggle_tools",
            none,
            &[],
        ));
    }
    tools
}

fn text(text: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": text.into()}]})
}

fn tool_error(message: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": message.into()}], "isError": true})
}

/// Argument accessors that turn a bad argument into an `isError` result.
struct Args<'a>(&'a Value);

impl Args<'_> {
    fn str(&self, name: &str) -> Result<&str, Value> {
        self.0
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| tool_error(format!("argument {name:?} must be a string")))
    }

    fn f64(&self, name: &str) -> Result<f64, Value> {
        self.0
            .get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| tool_error(format!("argument {name:?} must be a number")))
    }

    fn u64(&self, name: &str) -> Result<Option<u64>, Value> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                tool_error(format!("argument {name:?} must be a non-negative integer"))
            }),
        }
    }
}

pub(super) async fn call(ctx: &CallCtx, params: Value) -> Result<Value, RpcError> {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    let extra = lock(&ctx.session.state).extra_tool;
    if !definitions(extra).iter().any(|t| t["name"] == name) {
        return Err(RpcError::invalid_params(format!("Unknown tool: {name}")));
    }
    let empty = json!({});
    let args = Args(
        params
            .get("arguments")
            .filter(|a| a.is_object())
            .unwrap_or(&empty),
    );
    let progress = params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .cloned();
    Ok(run(ctx, name, &args, progress)
        .await
        .unwrap_or_else(|error| error))
}

async fn run(
    ctx: &CallCtx,
    name: &str,
    args: &Args<'_>,
    progress: Option<Value>,
) -> Result<Value, Value> {
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(match name {
        "echo" => text(args.str("message")?),
        "add" => {
            let sum = args.f64("a")? + args.f64("b")?;
            let mut result = text(format!("{sum}"));
            result["structuredContent"] = json!({"sum": sum});
            result
        }
        "sleep" => sleep(ctx, args, progress).await?,
        "big" => {
            let bytes = args.u64("bytes")?.unwrap_or(0);
            if bytes > MAX_BIG {
                return Err(tool_error(format!("bytes must be at most {MAX_BIG}")));
            }
            let bytes = usize::try_from(bytes).unwrap_or(0);
            text(
                "abcdefghijklmnopqrstuvwxyz\n"
                    .chars()
                    .cycle()
                    .take(bytes)
                    .collect::<String>(),
            )
        }
        "image" => {
            json!({"content": [{"type": "image", "data": b64.encode(media::PNG), "mimeType": "image/png"}]})
        }
        "audio" => {
            json!({"content": [{"type": "audio", "data": b64.encode(media::wav()), "mimeType": "audio/wav"}]})
        }
        "resource_link" => json!({"content": [{
            "type": "resource_link",
            "uri": "demo://readme",
            "name": "readme",
            "description": "The server's read-me",
            "mimeType": "text/markdown",
        }]}),
        "embedded_resource" => json!({"content": [
            {"type": "resource", "resource": resources::contents("demo://readme")},
            {"type": "resource", "resource": resources::contents("demo://logo.png")},
        ]}),
        "fail" => tool_error("this tool always fails"),
        "whoami" => {
            let mut result = text(ctx.session.id.clone());
            result["structuredContent"] = json!({"session_id": ctx.session.id});
            result
        }
        "toggle_tools" => {
            let now = {
                let mut state = lock(&ctx.session.state);
                state.extra_tool = !state.extra_tool;
                state.extra_tool
            };
            ctx.session.push_standalone(&rpc::notification(
                "notifications/tools/list_changed",
                json!({}),
            ));
            text(if now {
                "added tool extra"
            } else {
                "removed tool extra"
            })
        }
        "extra" => text("extra tool called"),
        "ask" => ask(ctx, args.str("question")?).await?,
        "sample" => {
            let params = json!({
                "messages": [{"role": "user", "content": {"type": "text", "text": args.str("prompt")?}}],
                "maxTokens": 256,
            });
            let result = ctx
                .ask_client("sampling/createMessage", params)
                .await
                .map_err(tool_error)?;
            match result.pointer("/content/text").and_then(Value::as_str) {
                Some(answer) => text(answer),
                None => text(
                    result
                        .get("content")
                        .map(Value::to_string)
                        .unwrap_or_default(),
                ),
            }
        }
        "roots" => {
            let result = ctx
                .ask_client("roots/list", json!({}))
                .await
                .map_err(tool_error)?;
            text(
                result
                    .get("roots")
                    .cloned()
                    .unwrap_or(Value::Null)
                    .to_string(),
            )
        }
        "log" => {
            let level = args.str("level")?;
            let index = LOG_LEVELS
                .iter()
                .position(|l| *l == level)
                .ok_or_else(|| tool_error("unknown level"))?;
            if index >= lock(&ctx.session.state).log_level {
                let params = json!({"level": level, "logger": "mcptool-server", "data": args.str("message")?});
                ctx.session
                    .push_standalone(&rpc::notification("notifications/message", params));
            }
            text("logged")
        }
        _ => tool_error(format!("tool {name} is not implemented")),
    })
}

async fn sleep(ctx: &CallCtx, args: &Args<'_>, progress: Option<Value>) -> Result<Value, Value> {
    let ms = args.u64("ms")?.unwrap_or(0).min(MAX_SLEEP_MS);
    let steps = args.u64("steps")?.unwrap_or(0).min(10_000);
    let slices = steps.max(1);
    for step in 1..=slices {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms / slices)) => {}
            () = ctx.cancel.cancelled() => return Err(tool_error("cancelled")),
        }
        if let (Some(token), true) = (&progress, steps > 0) {
            let params = json!({
                "progressToken": token,
                "progress": step,
                "total": steps,
                "message": format!("step {step} of {steps}"),
            });
            ctx.notify_related("notifications/progress", params);
        }
    }
    Ok(text(format!("slept {ms} ms")))
}

async fn ask(ctx: &CallCtx, question: &str) -> Result<Value, Value> {
    let params = json!({
        "message": question,
        "requestedSchema": {
            "type": "object",
            "properties": {"answer": {"type": "string", "title": "Answer"}},
            "required": ["answer"],
        },
    });
    let result = ctx
        .ask_client("elicitation/create", params)
        .await
        .map_err(tool_error)?;
    let action = result.get("action").and_then(Value::as_str).unwrap_or("");
    Ok(match action {
        "accept" => {
            let content = result.get("content").cloned().unwrap_or(Value::Null);
            match content.get("answer").and_then(Value::as_str) {
                Some(answer) => text(answer),
                None => text(content.to_string()),
            }
        }
        other => text(format!("the user chose {other:?}")),
    })
}
