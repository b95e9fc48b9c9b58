//! 2026-07-28 helpers: requests with `_meta`, and the headers taken from them.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use super::{Reply, TestServer, request};

/// The stateless protocol version.
pub(crate) const MODERN: &str = "2026-07-28";

/// Client capabilities that can answer every kind of input request.
pub(crate) fn all_capabilities() -> Value {
    json!({"elicitation": {"form": {}}, "sampling": {}, "roots": {}})
}

/// A 2026-07-28 request: `params` with `_meta` naming the version and `capabilities` (added to
/// any `_meta` the caller gave).
pub(crate) fn modern_request(id: u64, method: &str, params: Value, capabilities: Value) -> Value {
    let mut message = request(id, method, params);
    if !message["params"].is_object() {
        message["params"] = json!({});
    }
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "0"},
    });
    meta["io.modelcontextprotocol/clientCapabilities"] = capabilities;
    match message["params"]
        .get_mut("_meta")
        .and_then(Value::as_object_mut)
    {
        // Keeps what the caller put there (a progress token, a log level).
        Some(existing) => existing.extend(meta.as_object().cloned().unwrap_or_default()),
        None => message["params"]["_meta"] = meta,
    }
    message
}

impl TestServer {
    /// A POST of `body` with the 2026-07-28 headers taken from it: `MCP-Protocol-Version` from
    /// its `_meta`, `Mcp-Method`, and `Mcp-Name` (plain) for the methods that need it.
    pub(crate) fn modern_builder(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut builder = self.post_builder(None, body);
        let version = body
            .pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or(MODERN);
        builder = builder.header("mcp-protocol-version", version);
        if let Some(method) = body["method"].as_str() {
            builder = builder.header("mcp-method", method);
            let name = match method {
                "tools/call" | "prompts/get" => body["params"]["name"].as_str(),
                "resources/read" => body["params"]["uri"].as_str(),
                _ => None,
            };
            if let Some(name) = name {
                builder = builder.header("mcp-name", name);
            }
        }
        builder
    }

    /// Sends a 2026-07-28 request with every capability and the right headers.
    pub(crate) async fn modern(&self, method: &str, params: Value) -> Reply {
        let body = modern_request(next_modern_id(), method, params, all_capabilities());
        Reply::read(self.modern_builder(&body).send().await.expect("POST")).await
    }

    /// Calls a tool in 2026-07-28 and returns the one response message.
    pub(crate) async fn modern_call(&self, name: &str, arguments: Value) -> Value {
        let reply = self
            .modern("tools/call", json!({"name": name, "arguments": arguments}))
            .await;
        assert_eq!(reply.status, 200, "tools/call {name}: {}", reply.body);
        reply.response()
    }
}

/// Request ids for 2026-07-28 requests, unique within the test process.
pub(crate) fn next_modern_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
