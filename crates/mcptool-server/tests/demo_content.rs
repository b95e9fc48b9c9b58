//! The demo tools, prompts, resources and completions.

mod support;

use base64::Engine as _;
use serde_json::{Value, json};
use support::{TestServer, request, run};

async fn rpc(t: &TestServer, s: &support::Session, method: &str, params: Value) -> Value {
    t.post(Some(s), &request(s.next_id(), method, params))
        .await
        .response()
}

#[tokio::test]
async fn tools_list_is_paginated_with_cursors() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let mut names = Vec::new();
        let mut cursor = Value::Null;
        let mut pages = 0;
        loop {
            let params = if cursor.is_null() {
                json!({})
            } else {
                json!({"cursor": cursor})
            };
            let result = rpc(&t, &s, "tools/list", params).await["result"].clone();
            pages += 1;
            let tools = result["tools"].as_array().unwrap();
            assert!(tools.len() <= 5);
            assert!(tools.iter().all(|t| t["inputSchema"]["type"] == "object"));
            names.extend(tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
            cursor = result.get("nextCursor").cloned().unwrap_or(Value::Null);
            if cursor.is_null() {
                break;
            }
        }
        assert_eq!(pages, 5, "21 tools in pages of 5");
        for name in [
            "echo",
            "add",
            "sleep",
            "big",
            "image",
            "audio",
            "whoami",
            "toggle_tools",
            "ask",
            "sample",
            "roots",
        ] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
        let bad = rpc(&t, &s, "tools/list", json!({"cursor": "bogus"})).await;
        assert_eq!(bad["error"]["code"], -32602);
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn tools_return_every_content_kind() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let add = t.call_tool(&s, "add", json!({"a": 2, "b": 3.5})).await;
        assert_eq!(add["structuredContent"], json!({"sum": 5.5}));
        let b64 = base64::engine::general_purpose::STANDARD;
        let image = t.call_tool(&s, "image", json!({})).await;
        assert_eq!(image["content"][0]["mimeType"], "image/png");
        let png = b64
            .decode(image["content"][0]["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let audio = t.call_tool(&s, "audio", json!({})).await;
        let wav = b64
            .decode(audio["content"][0]["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        let link = t.call_tool(&s, "resource_link", json!({})).await;
        assert_eq!(link["content"][0]["type"], "resource_link");
        let embedded = t.call_tool(&s, "embedded_resource", json!({})).await;
        assert!(embedded["content"][0]["resource"]["text"].is_string());
        assert!(embedded["content"][1]["resource"]["blob"].is_string());
        assert_eq!(t.call_tool(&s, "fail", json!({})).await["isError"], true);
        let big = t.call_tool(&s, "big", json!({"bytes": 100_000})).await;
        assert_eq!(big["content"][0]["text"].as_str().unwrap().len(), 100_000);
        let bad_args = t.call_tool(&s, "echo", json!({"message": 5})).await;
        assert_eq!(bad_args["isError"], true);
        let unknown = rpc(
            &t,
            &s,
            "tools/call",
            json!({"name": "nope", "arguments": {}}),
        )
        .await;
        assert_eq!(unknown["error"]["code"], -32602);
        let hidden = rpc(
            &t,
            &s,
            "tools/call",
            json!({"name": "extra", "arguments": {}}),
        )
        .await;
        assert_eq!(
            hidden["error"]["code"], -32602,
            "extra exists only when toggled on"
        );
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn prompts_resources_templates_and_completion() {
    run(async {
        let t = TestServer::default().await;
        let s = t.session().await;
        let prompts = rpc(&t, &s, "prompts/list", json!({})).await;
        assert_eq!(prompts["result"]["prompts"][0]["name"], "greeting");
        let got = rpc(&t, &s, "prompts/get", json!({"name": "greeting", "arguments": {"name": "Ada", "style": "formal"}})).await;
        let text = got["result"]["messages"][0]["content"]["text"].as_str().unwrap();
        assert!(text.contains("Ada") && text.contains("formal"), "{text}");
        let missing = rpc(&t, &s, "prompts/get", json!({"name": "greeting", "arguments": {}})).await;
        assert_eq!(missing["error"]["code"], -32602);
        let resources = rpc(&t, &s, "resources/list", json!({})).await;
        assert!(resources["result"]["resources"].as_array().unwrap().len() >= 3);
        let logo = rpc(&t, &s, "resources/read", json!({"uri": "demo://logo.png"})).await;
        assert!(logo["result"]["contents"][0]["blob"].is_string());
        let templates = rpc(&t, &s, "resources/templates/list", json!({})).await;
        assert_eq!(templates["result"]["resourceTemplates"][0]["uriTemplate"], "demo://items/{id}");
        let item = rpc(&t, &s, "resources/read", json!({"uri": "demo://items/7"})).await;
        assert_eq!(item["result"]["contents"][0]["text"], "Item 7");
        let gone = rpc(&t, &s, "resources/read", json!({"uri": "demo://nothing"})).await;
        assert_eq!(gone["error"]["code"], -32002);
        let complete = rpc(
            &t,
            &s,
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "greeting"}, "argument": {"name": "style", "value": "f"}}),
        )
        .await;
        assert_eq!(complete["result"]["completion"]["values"], json!(["formal", "friendly", "funny"]));
        assert_eq!(rpc(&t, &s, "logging/setLevel", json!({"level": "error"})).await["result"], json!({}));
        assert_eq!(rpc(&t, &s, "logging/setLevel", json!({"level": "loud"})).await["error"]["code"], -32602);
        assert_eq!(rpc(&t, &s, "ping", json!({})).await["result"], json!({}));
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn initialize_advertises_capabilities_and_server_info() {
    run(async {
        let t = TestServer::default().await;
        let params = json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}});
        let reply = t.post(None, &request(1, "initialize", params)).await;
        let result = &reply.response()["result"];
        assert_eq!(result["protocolVersion"], "2025-03-26");
        assert_eq!(result["serverInfo"]["name"], "mcptool-server");
        assert_eq!(result["capabilities"]["tools"]["listChanged"], true);
        for cap in ["prompts", "resources", "logging", "completions"] {
            assert!(result["capabilities"][cap].is_object(), "{cap}");
        }
        t.finish().await;
    })
    .await;
}
