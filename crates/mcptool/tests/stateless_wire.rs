//! The 2026-07-28 wire pieces of `mcptool::protocol` against the strict server: request
//! `_meta`, `server/discover`, the `Mcp-Name` and `Mcp-Param-*` headers with their encoding,
//! tools whose annotations are invalid, `input_required` and its retry, and the errors that tell
//! a modern server from an older one. Each request is a plain POST; what the server saw is read
//! from its stats.

mod support;

use std::time::Duration;

use mcptool::protocol::headers::{ParamHeaders, encode_header_value};
use mcptool::protocol::modern::{
    self, CacheScope, DiscoverResult, InputRequired, ResultType, STATELESS_VERSION,
};
use mcptool::protocol::{Implementation, Tool};
use mcptool_server::{Era, ServerConfig};
use serde_json::{Map, Value, json};
use support::within;

/// A POST of one 2026-07-28 request, with the standard headers built by mcptool's encoders.
async fn post(
    url: &str,
    id: u64,
    method: &str,
    params: Value,
    extra: &[(String, String)],
) -> (u16, Value) {
    let info = Implementation {
        name: "stateless-wire".into(),
        version: "0".into(),
        title: None,
    };
    let capabilities = json!({"elicitation": {"form": {}}});
    let mut params = params.as_object().cloned().unwrap_or_default();
    params.insert(
        "_meta".into(),
        Value::Object(modern::request_meta(&capabilities, &info, None)),
    );
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", STATELESS_VERSION)
        .header("mcp-method", method);
    if let Some(name) = name {
        request = request.header("mcp-name", encode_header_value(&name).as_ref());
    }
    for (header, value) in extra {
        request = request.header(header.as_str(), value.as_str());
    }
    let response = request.body(body.to_string()).send().await.expect("POST");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

async fn json_server(era: Era) -> mcptool_server::RunningServer {
    let _ = rustls::crypto::ring::default_provider().install_default();
    support::server::start(
        ServerConfig::default()
            .era(era)
            .response_mode(mcptool_server::ResponseMode::Json),
    )
    .await
}

#[tokio::test]
async fn discover_and_the_tool_list_read_with_the_protocol_types() {
    within(Duration::from_secs(30), async {
        let server = json_server(Era::Stateless).await;
        let (status, answer) = post(&server.url(), 1, "server/discover", json!({}), &[]).await;
        assert_eq!(status, 200);
        let discover: DiscoverResult =
            serde_json::from_value(answer["result"].clone()).expect("a DiscoverResult");
        assert!(discover.serves_stateless());
        assert_eq!(
            discover.server_info().map(|i| i.name).as_deref(),
            Some("mcptool-server")
        );
        assert_eq!(discover.cache_hint().scope, CacheScope::Public);
        let mut usable = Vec::new();
        let mut refused = Vec::new();
        let mut cursor: Option<String> = None;
        for page in 2..20 {
            let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
            let (_, answer) = post(&server.url(), page, "tools/list", params, &[]).await;
            let result = &answer["result"];
            assert_eq!(ResultType::of(result), Ok(ResultType::Complete));
            for tool in result["tools"].as_array().expect("tools") {
                let tool: Tool = serde_json::from_value(tool.clone()).expect("a Tool");
                match ParamHeaders::from_schema(&tool.input_schema) {
                    Ok(_) => usable.push(tool.name),
                    Err(reason) => refused.push((tool.name, reason.to_string())),
                }
            }
            cursor = result["nextCursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        assert!(usable.iter().any(|n| n == "route") && usable.iter().any(|n| n == "echo"));
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].0, "bad_header");
        assert!(refused[0].1.contains("number"), "{}", refused[0].1);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn mirrored_headers_and_an_encoded_name_are_what_the_server_checks() {
    within(Duration::from_secs(30), async {
        let server = json_server(Era::Both).await;
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "urgent": {"type": "boolean", "x-mcp-header": "Urgent"},
            "target": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
        }});
        let mirrored = ParamHeaders::from_schema(&schema).expect("the route tool's annotations");
        let arguments = json!({"region": " padded 世界 ", "priority": 42, "urgent": false, "target": {"zone": "=?base64?x?="}});
        let headers = mirrored.headers(&arguments);
        assert_eq!(headers.len(), 4);
        let (status, answer) = post(&server.url(), 1, "tools/call", json!({"name": "route", "arguments": arguments}), &headers).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["result"]["structuredContent"]["region"], " padded 世界 ");
        // Without the headers the same call is a mismatch, so the server did check them.
        let (status, answer) = post(&server.url(), 2, "tools/call", json!({"name": "route", "arguments": {"region": "eu"}}), &[]).await;
        assert_eq!(status, 400);
        assert!(modern::is_modern_error(status, answer.to_string().as_bytes()));
        let snap = server.stats().snapshot();
        assert_eq!(snap.header_mismatches.get("mcp-param-region"), Some(&1), "{snap:?}");
        assert_eq!(snap.header_mismatches.len(), 1, "the encoded values all matched");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn an_input_required_result_is_retried_with_its_state_echoed() {
    within(Duration::from_secs(30), async {
        let server = json_server(Era::Stateless).await;
        let params = json!({"name": "ask", "arguments": {"question": "Name?"}});
        let (_, first) = post(&server.url(), 1, "tools/call", params.clone(), &[]).await;
        let result = &first["result"];
        assert_eq!(ResultType::of(result), Ok(ResultType::InputRequired));
        let input = InputRequired::read(result).expect("a valid input_required");
        let mut answers = Map::new();
        for (key, request) in input.requests() {
            assert_eq!(request.method, "elicitation/create");
            answers.insert(
                key.to_owned(),
                json!({"action": "accept", "content": {"answer": "Ada"}}),
            );
        }
        let (status, done) = post(
            &server.url(),
            2,
            "tools/call",
            input.retry_params(&params, answers),
            &[],
        )
        .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["result"]["content"][0]["text"], "Ada");
        let snap = server.stats().snapshot();
        assert_eq!(
            (
                snap.mrtr_rounds,
                snap.mrtr_retries,
                snap.mrtr_rejected_states
            ),
            (1, 1, 0)
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_sessions_only_server_answers_with_no_modern_error() {
    within(Duration::from_secs(30), async {
        let old = json_server(Era::Sessions).await;
        let (status, answer) = post(&old.url(), 1, "server/discover", json!({}), &[]).await;
        assert_eq!(status, 400);
        assert!(
            !modern::is_modern_error(status, answer.to_string().as_bytes()),
            "{answer}"
        );
        old.shutdown().await;
        let new = json_server(Era::Stateless).await;
        let (status, answer) = post(&new.url(), 2, "ping", json!({}), &[]).await;
        assert_eq!(status, 404);
        assert!(
            modern::is_modern_error(status, answer.to_string().as_bytes()),
            "{answer}"
        );
        new.shutdown().await;
    })
    .await;
}
