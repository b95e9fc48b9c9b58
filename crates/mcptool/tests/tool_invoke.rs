//! `invoke`: approval before anything reaches the server, arguments checked against the
//! schema, every content type converted without loss, tool errors as data, and concurrent
//! calls that do not wait on each other.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcptool::protocol::{Content, ResourceContents};
use mcptool::{
    ApprovalDecision, ApprovalMode, Approver, ErrorKind, McpStreamableHttpTool, OutputKind,
    ProtocolEra,
};
use mcptool_server::RunningServer;
use serde_json::json;
use support::server::start_default;
use support::within;

async fn connected(
    server: &RunningServer,
    mode: ApprovalMode,
    approver: Option<Approver>,
) -> McpStreamableHttpTool {
    let mut builder = McpStreamableHttpTool::builder("demo", server.url())
        .protocol_era(ProtocolEra::Session)
        .approval_mode(mode);
    if let Some(a) = approver {
        builder = builder.approver(a);
    }
    let tool = builder.build().expect("build");
    tool.connect().await.expect("connect");
    tool
}

fn tool_calls(server: &RunningServer) -> u64 {
    server
        .stats()
        .snapshot()
        .methods
        .get("tools/call")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_call_that_needs_approval_and_has_no_approver_is_denied_before_the_server() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = connected(&server, ApprovalMode::AlwaysRequire, None).await;
        let out = tool
            .invoke("echo", json!({"message": "hi"}))
            .await
            .expect("output");
        assert_eq!(out.kind, OutputKind::Denied);
        assert!(out.is_error());
        assert!(out.text().contains("not approved"), "{}", out.text());
        assert_eq!(tool_calls(&server), 0, "a denied call reached the server");
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_approver_sees_the_call_and_its_decision_holds() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let approver = Approver::new(move |request| {
            log.lock().expect("lock").push(request.clone());
            async move {
                if request.arguments["message"] == "rm -rf" {
                    ApprovalDecision::Deny {
                        reason: Some("destructive".into()),
                    }
                } else {
                    ApprovalDecision::Approve
                }
            }
        });
        let tool = connected(&server, ApprovalMode::AlwaysRequire, Some(approver)).await;
        let ok = tool
            .invoke("echo", json!({"message": "hi"}))
            .await
            .expect("approved");
        assert_eq!(ok.kind, OutputKind::Success);
        assert_eq!(ok.text(), "hi");
        let denied = tool
            .invoke("echo", json!({"message": "rm -rf"}))
            .await
            .expect("denied");
        assert_eq!(denied.kind, OutputKind::Denied);
        assert!(denied.text().contains("destructive"), "{}", denied.text());
        assert_eq!(
            tool_calls(&server),
            1,
            "only the approved call may reach the server"
        );
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].function, "echo");
        assert_eq!(seen[0].mcp_name, "echo");
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn per_tool_lists_and_never_require_decide_which_calls_ask() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let mode = ApprovalMode::PerTool {
            always_require: vec!["fail".into()],
            never_require: vec!["echo".into()],
        };
        let tool = connected(&server, mode, None).await;
        let echo = tool
            .invoke("echo", json!({"message": "hi"}))
            .await
            .expect("echo");
        assert_eq!(echo.kind, OutputKind::Success);
        let fail = tool.invoke("fail", json!({})).await.expect("fail");
        assert_eq!(fail.kind, OutputKind::Denied);
        let unlisted = tool.invoke("image", json!({})).await.expect("image");
        assert_eq!(
            unlisted.kind,
            OutputKind::Denied,
            "unlisted tools need approval"
        );
        assert_eq!(tool_calls(&server), 1);
        tool.close().await.expect("close");

        let free = connected(&server, ApprovalMode::NeverRequire, None).await;
        let out = free.invoke("fail", json!({})).await.expect("fail");
        assert_eq!(out.kind, OutputKind::ToolError);
        free.close().await.expect("close");
        assert_eq!(tool_calls(&server), 2);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn bad_arguments_come_back_as_readable_data_and_never_reach_the_server() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = connected(&server, ApprovalMode::NeverRequire, None).await;
        let wrong_type = tool
            .invoke("add", json!({"a": "one", "b": 2}))
            .await
            .expect("output");
        assert_eq!(wrong_type.kind, OutputKind::InvalidArguments);
        assert_eq!(wrong_type.argument_violations.len(), 1);
        assert_eq!(wrong_type.argument_violations[0].path, "/a");
        assert!(wrong_type.text().contains("/a"), "{}", wrong_type.text());
        let missing = tool.invoke("echo", json!({})).await.expect("output");
        assert_eq!(missing.kind, OutputKind::InvalidArguments);
        assert!(missing.text().contains("message"), "{}", missing.text());
        let not_object = tool.invoke("echo", json!(["hi"])).await.expect("output");
        assert_eq!(not_object.kind, OutputKind::InvalidArguments);
        assert!(
            not_object.text().contains("an array"),
            "{}",
            not_object.text()
        );
        // `null` arguments count as `{}` for a tool without required arguments.
        let null_ok = tool
            .invoke("image", serde_json::Value::Null)
            .await
            .expect("image");
        assert_eq!(null_ok.kind, OutputKind::Success);
        assert_eq!(tool_calls(&server), 1, "invalid calls reached the server");

        let unknown = tool
            .invoke("no_such_function", json!({}))
            .await
            .expect_err("unknown");
        assert_eq!(unknown.kind(), ErrorKind::Config);
        assert!(unknown.to_string().contains("no_such_function"));
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn every_content_type_round_trips_without_loss() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = connected(&server, ApprovalMode::NeverRequire, None).await;

        let text = tool.invoke("echo", json!({"message": "héllo"})).await.expect("echo");
        assert_eq!(text.content[0].as_text(), Some("héllo"));

        let image = tool.invoke("image", json!({})).await.expect("image");
        assert!(matches!(&image.content[0], Content::Image { mime_type, data, .. }
            if mime_type == "image/png" && !data.is_empty()));

        let audio = tool.invoke("audio", json!({})).await.expect("audio");
        assert!(matches!(&audio.content[0], Content::Audio { mime_type, .. } if mime_type == "audio/wav"));

        let link = tool.invoke("resource_link", json!({})).await.expect("link");
        match &link.content[0] {
            Content::ResourceLink { uri, name, extra } => {
                assert_eq!(uri, "demo://readme");
                assert_eq!(name, "readme");
                assert_eq!(extra["mimeType"], "text/markdown");
                assert_eq!(extra["description"], "The server's read-me");
            }
            other => panic!("not a resource link: {other:?}"),
        }

        let embedded = tool.invoke("embedded_resource", json!({})).await.expect("embedded");
        assert_eq!(embedded.content.len(), 2);
        assert!(matches!(&embedded.content[0], Content::Resource { resource: ResourceContents::Text { text, .. }, .. } if !text.is_empty()));
        assert!(matches!(&embedded.content[1], Content::Resource { resource: ResourceContents::Blob { blob, .. }, .. } if !blob.is_empty()));

        let add = tool.invoke("add", json!({"a": 2, "b": 3.5})).await.expect("add");
        assert_eq!(add.structured_content, Some(json!({"sum": 5.5})));
        assert!(add.output_violations.is_empty(), "{:?}", add.output_violations);
        assert_eq!(add.to_value()["structuredContent"], json!({"sum": 5.5}));

        let fail = tool.invoke("fail", json!({})).await.expect("a tool error is data");
        assert_eq!(fail.kind, OutputKind::ToolError);
        assert_eq!(fail.to_value()["isError"], json!(true));
        assert_eq!(fail.text(), "this tool always fails");

        // What the model would be shown, for every kind.
        for out in [&image, &audio, &link, &embedded] {
            assert!(!out.text().is_empty());
        }
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_hundred_concurrent_invokes_do_not_wait_on_each_other() {
    within(Duration::from_secs(60), async {
        let server = start_default().await;
        let tool = connected(&server, ApprovalMode::NeverRequire, None).await;
        let started = Instant::now();
        let calls = (0..100).map(|i| {
            let tool = tool.clone();
            tokio::spawn(async move {
                let out = tool
                    .invoke("sleep", json!({"ms": 500}))
                    .await
                    .unwrap_or_else(|e| panic!("call {i}: {e:?}"));
                assert_eq!(out.kind, OutputKind::Success);
                started.elapsed()
            })
        });
        let mut slowest = Duration::ZERO;
        for call in calls.collect::<Vec<_>>() {
            slowest = slowest.max(call.await.expect("task"));
        }
        // Serialised, 100 calls of 500 ms would take 50 s; side by side, about one call.
        assert!(
            slowest < Duration::from_secs(10),
            "slowest call finished after {slowest:?}"
        );
        assert_eq!(tool_calls(&server), 100);
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn execution_timeout_bounds_an_invoke() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .execution_timeout(Duration::from_millis(300))
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        let started = Instant::now();
        let err = tool
            .invoke("sleep", json!({"ms": 5000}))
            .await
            .expect_err("times out");
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(err.deadline(), Some(mcptool::Deadline::Execution));
        assert_eq!(err.to_string(), "tool execution timeout");
        assert!(started.elapsed() < Duration::from_secs(3));
        // The abandoned call is cancelled on the server.
        support::server::wait_stats(&server, "the cancellation", |s| s.cancelled_requests == 1)
            .await;
        let fine = tool
            .invoke("echo", json!({"message": "still here"}))
            .await
            .expect("echo");
        assert_eq!(fine.text(), "still here");
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}
