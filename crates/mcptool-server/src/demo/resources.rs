//! Demo resources and resource templates.

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Ctx, Halt, media};
use crate::rpc::RpcError;

const README: &str = "# mcptool-server\n\nA strict reference MCP server. Try the `echo` tool.\n";
const NOTES: &str = "Notes: everything here is demo content.\n";
const CONFIG: &str = "{\"page_size\": 5, \"strict\": true}\n";

pub(super) fn definitions(extra: bool) -> Vec<Value> {
    let mut resources = vec![
        json!({"uri": "demo://readme", "name": "readme", "title": "Read me", "mimeType": "text/markdown", "size": README.len()}),
        json!({"uri": "demo://notes", "name": "notes", "mimeType": "text/plain", "size": NOTES.len()}),
        json!({"uri": "demo://config.json", "name": "config", "mimeType": "application/json", "size": CONFIG.len()}),
        json!({"uri": "demo://logo.png", "name": "logo", "title": "Logo", "mimeType": "image/png", "size": media::PNG.len()}),
    ];
    if extra {
        resources.push(json!({"uri": "demo://extra", "name": "extra", "mimeType": "text/plain"}));
    }
    resources
}

pub(super) fn templates() -> Vec<Value> {
    vec![json!({
        "uriTemplate": "demo://items/{id}",
        "name": "item",
        "title": "Item by id",
        "description": "A text item for any id",
        "mimeType": "text/plain",
    })]
}

/// The contents of one resource, as `resources/read` and embedded resources carry them.
pub(super) fn contents(uri: &str) -> Option<Value> {
    let text = |mime: &str, text: &str| Some(json!({"uri": uri, "mimeType": mime, "text": text}));
    match uri {
        "demo://readme" => text("text/markdown", README),
        "demo://notes" => text("text/plain", NOTES),
        "demo://config.json" => text("application/json", CONFIG),
        "demo://extra" => text("text/plain", "The extra resource\n"),
        "demo://logo.png" => Some(json!({
            "uri": uri,
            "mimeType": "image/png",
            "blob": base64::engine::general_purpose::STANDARD.encode(media::PNG),
        })),
        _ => {
            let id = uri
                .strip_prefix("demo://items/")
                .filter(|id| !id.is_empty() && !id.contains('/'))?;
            text("text/plain", &format!("Item {id}"))
        }
    }
}

pub(super) fn read(ctx: &impl Ctx, params: &Value) -> Result<Value, Halt> {
    let uri = params.get("uri").and_then(Value::as_str).unwrap_or("");
    let hidden = uri == "demo://extra" && !ctx.scope().extra_resource();
    let contents = contents(uri).filter(|_| !hidden).ok_or_else(|| {
        RpcError::new(
            ctx.resource_not_found_code(),
            format!("Resource not found: {uri}"),
        )
    })?;
    Ok(json!({"contents": [contents]}))
}
