//! Demo prompts and completions.

use serde_json::{Value, json};

use super::{Ctx, Halt};
use crate::rpc::RpcError;

const STYLES: [&str; 6] = ["casual", "formal", "friendly", "funny", "pirate", "poetic"];

pub(super) fn definitions(extra: bool) -> Vec<Value> {
    let mut prompts = vec![
        json!({
            "name": "greeting",
            "title": "Greeting",
            "description": "Ask for a greeting for someone, in a style",
            "arguments": [
                {"name": "name", "description": "Who to greet", "required": true},
                {"name": "style", "description": "How to greet (see completion)", "required": false},
            ],
        }),
        json!({
            "name": "summarize",
            "title": "Summarize",
            "description": "Ask for a one-sentence summary of a text",
            "arguments": [{"name": "text", "description": "The text to summarize", "required": true}],
        }),
        json!({
            "name": "introduce",
            "title": "Introduce",
            "description": "Ask the user for their name (elicitation), then for an introduction",
            "arguments": [],
        }),
    ];
    if extra {
        prompts.push(json!({
            "name": "extra",
            "description": "A prompt that comes and goes with toggle_prompts",
            "arguments": [],
        }));
    }
    prompts
}

fn argument<'a>(params: &'a Value, name: &str) -> Option<&'a str> {
    params
        .get("arguments")
        .and_then(|a| a.get(name))
        .and_then(Value::as_str)
}

pub(super) async fn get(ctx: &impl Ctx, params: &Value) -> Result<Value, Halt> {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    if name == "introduce" {
        return introduce(ctx).await;
    }
    let missing =
        |arg: &str| RpcError::invalid_params(format!("missing required argument {arg:?}"));
    let (description, text) = match name {
        "greeting" => {
            let who = argument(params, "name").ok_or_else(|| missing("name"))?;
            let style = argument(params, "style").unwrap_or("friendly");
            (
                "A greeting",
                format!("Please greet {who} in a {style} style."),
            )
        }
        "summarize" => {
            let text = argument(params, "text").ok_or_else(|| missing("text"))?;
            (
                "A summary request",
                format!("Summarize in one sentence:\n\n{text}"),
            )
        }
        "extra" if ctx.scope().extra_prompt() => ("The extra prompt", "Say hello.".to_owned()),
        _ => return Err(RpcError::invalid_params(format!("unknown prompt {name:?}")).into()),
    };
    Ok(json!({
        "description": description,
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    }))
}

/// `introduce`: the prompt needs the user's name first.
async fn introduce(ctx: &impl Ctx) -> Result<Value, Halt> {
    let request = json!({
        "mode": "form",
        "message": "Who should be introduced?",
        "requestedSchema": {
            "type": "object",
            "properties": {"name": {"type": "string", "title": "Name"}},
            "required": ["name"],
        },
    });
    let result = ctx.input("name", "elicitation/create", request).await?;
    let name = result
        .pointer("/content/name")
        .and_then(Value::as_str)
        .unwrap_or("someone");
    Ok(json!({
        "description": "An introduction",
        "messages": [{"role": "user", "content": {"type": "text", "text": format!("Please introduce {name}.")}}],
    }))
}

/// `completion/complete`: styles of the greeting prompt by prefix; nothing for anything else.
pub(super) fn complete(params: &Value) -> Value {
    let reference = params.get("ref").unwrap_or(&Value::Null);
    let is_greeting = reference.get("type").and_then(Value::as_str) == Some("ref/prompt")
        && reference.get("name").and_then(Value::as_str) == Some("greeting");
    let argument = params.get("argument").unwrap_or(&Value::Null);
    let values: Vec<&str> =
        if is_greeting && argument.get("name").and_then(Value::as_str) == Some("style") {
            let prefix = argument
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            STYLES
                .iter()
                .copied()
                .filter(|s| s.starts_with(&prefix))
                .collect()
        } else {
            Vec::new()
        };
    json!({"completion": {"values": values, "total": values.len(), "hasMore": false}})
}
