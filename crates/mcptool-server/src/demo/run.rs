//! Running the demo tools.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Change, Ctx, Halt, LOG_LEVELS, media, resources, tools};
use crate::rpc::RpcError;

/// The largest `big` result.
const MAX_BIG: u64 = 32 * 1024 * 1024;
/// The longest `sleep`.
const MAX_SLEEP_MS: u64 = 10 * 60 * 1000;

pub(super) fn text(text: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": text.into()}]})
}

fn tool_error(message: impl Into<String>) -> Halt {
    Halt::Tool(json!({"content": [{"type": "text", "text": message.into()}], "isError": true}))
}

/// Argument accessors that turn a bad argument into an `isError` result.
struct Args<'a>(&'a Value);

impl Args<'_> {
    fn str(&self, name: &str) -> Result<&str, Halt> {
        self.0
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| tool_error(format!("argument {name:?} must be a string")))
    }

    fn f64(&self, name: &str) -> Result<f64, Halt> {
        self.0
            .get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| tool_error(format!("argument {name:?} must be a number")))
    }

    fn u64(&self, name: &str) -> Result<Option<u64>, Halt> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                tool_error(format!("argument {name:?} must be a non-negative integer"))
            }),
        }
    }
}

/// `tools/call`: an `isError` result for a failing tool, `Err` for protocol errors and input.
pub(super) async fn call(ctx: &impl Ctx, params: &Value) -> Result<Value, Halt> {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    if tools::definition(name, ctx.scope().extra_tool()).is_none() {
        return Err(RpcError::invalid_params(format!("Unknown tool: {name}")).into());
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
    match run(ctx, name, &args, progress).await {
        Ok(result) | Err(Halt::Tool(result)) => Ok(result),
        Err(halt) => Err(halt),
    }
}

async fn run(
    ctx: &impl Ctx,
    name: &str,
    args: &Args<'_>,
    progress: Option<Value>,
) -> Result<Value, Halt> {
    Ok(match name {
        "echo" => text(args.str("message")?),
        "add" => {
            let sum = args.f64("a")? + args.f64("b")?;
            let mut result = text(format!("{sum}"));
            result["structuredContent"] = json!({"sum": sum});
            result
        }
        "sleep" => sleep(ctx, args, progress).await?,
        "ask" => ask(ctx, "answer", args.str("question")?).await?,
        "survey" => survey(ctx).await?,
        "sample" => sample(ctx, args.str("prompt")?).await?,
        "roots" => {
            let result = ctx.input("roots", "roots/list", json!({})).await?;
            text(
                result
                    .get("roots")
                    .cloned()
                    .unwrap_or(Value::Null)
                    .to_string(),
            )
        }
        "log" => log(ctx, args)?,
        "toggle_tools" => toggle(ctx, Change::Tools, "tool extra"),
        "toggle_prompts" => toggle(ctx, Change::Prompts, "prompt extra"),
        "toggle_resources" => toggle(ctx, Change::Resources, "resource demo://extra"),
        "touch_resource" => {
            let uri = args.str("uri")?;
            if !super::resource_exists(uri) {
                return Err(tool_error(format!("no resource {uri}")));
            }
            ctx.changed(Change::Resource(uri.to_owned()));
            text(format!("touched {uri}"))
        }
        other => content(ctx, other, args)?,
    })
}

/// The tools whose result is plain content.
fn content(ctx: &impl Ctx, name: &str, args: &Args<'_>) -> Result<Value, Halt> {
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(match name {
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
        "fail" => return Err(tool_error("this tool always fails")),
        "whoami" => {
            let id = ctx.session_id().unwrap_or("");
            let mut result = text(if id.is_empty() { "no session" } else { id });
            result["structuredContent"] = json!({"session_id": id});
            result
        }
        "extra" => text("extra tool called"),
        "route" => {
            let mut result = text(args.0.to_string());
            result["structuredContent"] = args.0.clone();
            result
        }
        "bad_header" => text("bad_header called"),
        _ => return Err(tool_error(format!("tool {name} is not implemented"))),
    })
}

fn toggle(ctx: &impl Ctx, change: Change, what: &str) -> Value {
    let now = ctx.scope().toggle(&change);
    ctx.changed(change);
    text(if now {
        format!("added {what}")
    } else {
        format!("removed {what}")
    })
}

fn log(ctx: &impl Ctx, args: &Args<'_>) -> Result<Value, Halt> {
    let level = args.str("level")?;
    let index = LOG_LEVELS
        .iter()
        .position(|l| *l == level)
        .ok_or_else(|| tool_error("unknown level"))?;
    let params = json!({"level": level, "logger": "mcptool-server", "data": args.str("message")?});
    ctx.log(index, params);
    Ok(text("logged"))
}

async fn sleep(ctx: &impl Ctx, args: &Args<'_>, progress: Option<Value>) -> Result<Value, Halt> {
    let ms = args.u64("ms")?.unwrap_or(0).min(MAX_SLEEP_MS);
    let steps = args.u64("steps")?.unwrap_or(0).min(10_000);
    let slices = steps.max(1);
    for step in 1..=slices {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms / slices)) => {}
            () = ctx.cancelled() => return Err(tool_error("cancelled")),
        }
        if let (Some(token), true) = (&progress, steps > 0) {
            ctx.progress(json!({
                "progressToken": token,
                "progress": step,
                "total": steps,
                "message": format!("step {step} of {steps}"),
            }));
        }
    }
    Ok(text(format!("slept {ms} ms")))
}

/// A form elicitation with one required string field, with a default when given.
fn form(message: &str, field: &str, default: Option<&str>) -> Value {
    let mut property = json!({"type": "string", "title": "Answer"});
    if let Some(default) = default {
        property["default"] = json!(default);
    }
    json!({
        "mode": "form",
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {field: property},
            "required": [field],
        },
    })
}

/// Asks the user one question; the accepted answer, or the action they chose instead.
async fn elicit(
    ctx: &impl Ctx,
    key: &str,
    question: &str,
    default: Option<&str>,
) -> Result<Result<String, String>, Halt> {
    let result = ctx
        .input(key, "elicitation/create", form(question, key, default))
        .await?;
    let action = result.get("action").and_then(Value::as_str).unwrap_or("");
    if action != "accept" {
        return Ok(Err(action.to_owned()));
    }
    let content = result.get("content").cloned().unwrap_or(Value::Null);
    Ok(Ok(match content.get(key).and_then(Value::as_str) {
        Some(answer) => answer.to_owned(),
        None => content.to_string(),
    }))
}

async fn ask(ctx: &impl Ctx, key: &str, question: &str) -> Result<Value, Halt> {
    Ok(match elicit(ctx, key, question, None).await? {
        Ok(answer) => text(answer),
        Err(action) => text(format!("the user chose {action:?}")),
    })
}

/// Two questions, the second built from the first answer: two rounds in 2026-07-28.
async fn survey(ctx: &impl Ctx) -> Result<Value, Halt> {
    let name = match elicit(ctx, "name", "What is your name?", Some("Ada")).await? {
        Ok(name) => name,
        Err(action) => return Ok(text(format!("the user chose {action:?}"))),
    };
    let question = format!("Which colour do you like, {name}?");
    Ok(
        match elicit(ctx, "colour", &question, Some("teal")).await? {
            Ok(colour) => {
                let mut result = text(format!("{name} likes {colour}"));
                result["structuredContent"] = json!({"name": name, "colour": colour});
                result
            }
            Err(action) => text(format!("{name} chose {action:?}")),
        },
    )
}

async fn sample(ctx: &impl Ctx, prompt: &str) -> Result<Value, Halt> {
    let params = json!({
        "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
        "maxTokens": 256,
    });
    let result = ctx
        .input("completion", "sampling/createMessage", params)
        .await?;
    Ok(
        match result.pointer("/content/text").and_then(Value::as_str) {
            Some(answer) => text(answer),
            None => text(
                result
                    .get("content")
                    .map(Value::to_string)
                    .unwrap_or_default(),
            ),
        },
    )
}
