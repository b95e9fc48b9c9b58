//! Every demo tool and prompt becomes a function an LLM can call: normalised names, object
//! schemas with `properties`, OpenAI and Anthropic shapes, filtering and prefixing.

mod support;

use std::time::Duration;

use mcptool::{FunctionKind, McpStreamableHttpTool, ProtocolEra};
use serde_json::json;
use support::server::start_default;
use support::within;

const DEMO_TOOLS: [&str; 21] = [
    "echo",
    "add",
    "sleep",
    "big",
    "image",
    "audio",
    "resource_link",
    "embedded_resource",
    "fail",
    "whoami",
    "toggle_tools",
    "ask",
    "sample",
    "roots",
    "log",
    "survey",
    "route",
    "bad_header",
    "toggle_prompts",
    "toggle_resources",
    "touch_resource",
];

fn is_function_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[tokio::test]
async fn every_demo_tool_becomes_a_function_with_an_object_schema() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .load_prompts(false)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        let functions = tool.functions();
        let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        for expected in DEMO_TOOLS {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert_eq!(functions.len(), DEMO_TOOLS.len());
        for f in &functions {
            assert_eq!(f.kind, FunctionKind::Tool);
            assert!(is_function_name(&f.name), "{}", f.name);
            assert!(!f.description.is_empty(), "{} has no description", f.name);
            assert_eq!(f.parameters["type"], "object", "{}", f.name);
            assert!(f.parameters["properties"].is_object(), "{}", f.name);
            let openai = f.to_openai();
            assert_eq!(openai["type"], "function");
            assert_eq!(openai["function"]["name"], f.name.as_str());
            assert_eq!(openai["function"]["parameters"], f.parameters);
            let anthropic = f.to_anthropic();
            assert_eq!(anthropic["name"], f.name.as_str());
            assert_eq!(anthropic["input_schema"], f.parameters);
            assert_eq!(anthropic["description"], f.description.as_str());
        }
        // Zero-argument tools still get `properties: {}`.
        let image = tool.function("image").expect("image");
        assert_eq!(image.parameters["properties"], json!({}));
        // The schema as the server sent it otherwise: required arguments kept.
        let add = tool.function("add").expect("add");
        assert_eq!(add.parameters["required"], json!(["a", "b"]));
        assert!(add.output_schema.is_some());
        assert_eq!(tool.openai_tools().len(), functions.len());
        assert_eq!(tool.anthropic_tools().len(), functions.len());
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn prompts_become_functions_with_string_arguments() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .load_tools(false)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        let functions = tool.functions();
        assert!(functions.iter().all(|f| f.kind == FunctionKind::Prompt));
        let greeting = tool.function("greeting").expect("greeting prompt");
        assert_eq!(greeting.parameters["properties"]["name"]["type"], "string");
        assert_eq!(greeting.parameters["properties"]["style"]["type"], "string");
        assert_eq!(greeting.parameters["required"], json!(["name"]));
        let out = tool
            .invoke("greeting", json!({"name": "Ada"}))
            .await
            .expect("greeting");
        assert!(!out.is_error());
        assert!(!out.messages.is_empty());
        assert!(out.text().contains("Ada"), "{}", out.text());
        let bad = tool
            .invoke("greeting", json!({"name": 5}))
            .await
            .expect("checked locally");
        assert_eq!(bad.kind, mcptool::OutputKind::InvalidArguments);
        tool.close().await.expect("close");
        let s = server.stats().snapshot();
        assert_eq!(s.methods.get("prompts/get"), Some(&1));
        assert_eq!(
            s.methods.get("tools/list"),
            None,
            "load_tools(false) still listed tools"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn allowed_tools_filters_and_an_empty_list_allows_none() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let only = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .allowed_tools(["echo", "add", "no_such_tool"])
            .load_prompts(false)
            .build()
            .expect("build");
        only.connect().await.expect("connect");
        let mut names: Vec<String> = only.functions().into_iter().map(|f| f.name).collect();
        names.sort();
        assert_eq!(names, ["add", "echo"]);
        let err = only
            .invoke("fail", json!({}))
            .await
            .expect_err("filtered out");
        assert_eq!(err.kind(), mcptool::ErrorKind::Config);
        only.close().await.expect("close");

        let none = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .allowed_tools(Vec::<String>::new())
            .load_prompts(false)
            .build()
            .expect("build");
        none.connect().await.expect("connect");
        assert!(none.functions().is_empty());
        none.close().await.expect("close");
        let s = server.stats().snapshot();
        assert_eq!(
            s.methods.get("tools/call"),
            None,
            "a filtered call reached the server"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn prefix_is_normalised_into_every_name_and_calls_use_the_server_name() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .tool_name_prefix("demo server.")
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        for f in tool.functions() {
            assert!(f.name.starts_with("demo_server_"), "{}", f.name);
            assert!(is_function_name(&f.name), "{}", f.name);
        }
        let echo = tool.function("demo_server_echo").expect("prefixed echo");
        assert_eq!(echo.mcp_name, "echo");
        let out = tool
            .invoke("demo_server_echo", json!({"message": "hi"}))
            .await
            .expect("echo");
        assert_eq!(out.text(), "hi");
        assert!(tool.invoke("echo", json!({"message": "hi"})).await.is_err());
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}
