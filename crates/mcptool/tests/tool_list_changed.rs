//! `notifications/tools/list_changed` makes the tool reload its functions in the background:
//! new tools appear, removed ones stop being callable, and the version tells watchers.

mod support;

use std::time::Duration;

use mcptool::{ErrorKind, McpStreamableHttpTool, ProtocolEra};
use serde_json::json;
use support::server::start_default;
use support::within;

async fn wait_version(rx: &mut tokio::sync::watch::Receiver<u64>, after: u64) -> u64 {
    tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|v| *v > after))
        .await
        .expect("the function set never changed")
        .map(|v| *v)
        .expect("watch closed")
}

#[tokio::test]
async fn list_changed_adds_and_removes_functions() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        support::server::wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
        let mut versions = tool.watch_functions();
        let v0 = tool.functions_version();
        assert!(v0 >= 1);
        assert!(tool.function("extra").is_none());

        let out = tool
            .invoke("toggle_tools", json!({}))
            .await
            .expect("toggle on");
        assert_eq!(out.text(), "added tool extra");
        let v1 = wait_version(&mut versions, v0).await;
        assert!(tool.function("extra").is_some(), "extra was not added");
        let called = tool.invoke("extra", json!({})).await.expect("extra");
        assert_eq!(called.text(), "extra tool called");

        tool.invoke("toggle_tools", json!({}))
            .await
            .expect("toggle off");
        wait_version(&mut versions, v1).await;
        assert!(tool.function("extra").is_none(), "extra was not removed");
        let err = tool.invoke("extra", json!({})).await.expect_err("removed");
        assert_eq!(err.kind(), ErrorKind::Config);

        let s = server.stats().snapshot();
        assert!(s.methods.get("tools/list").copied().unwrap_or(0) >= 3);
        tool.close().await.expect("close");
        // The refresh task is gone with the tool: nothing of ours stays open.
        support::server::wait_stats(&server, "all closed", |s| {
            s.open_connections == 0 && s.live_get_streams == 0
        })
        .await;
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn invokes_racing_refreshes_neither_deadlock_nor_fail() {
    within(Duration::from_secs(60), async {
        let server = start_default().await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        let mut tasks = Vec::new();
        for i in 0..20 {
            let tool = tool.clone();
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    tool.invoke("toggle_tools", json!({})).await.map(|_| ())
                } else {
                    tool.invoke("echo", json!({"message": "x"}))
                        .await
                        .map(|_| ())
                }
            }));
        }
        for t in tasks {
            t.await.expect("task").expect("invoke");
        }
        // Ten toggles: back to no `extra`, once the last refresh lands.
        let settled =
            support::eventually(Duration::from_secs(10), || tool.function("extra").is_none()).await;
        assert!(settled);
        tool.close().await.expect("close");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_tool_opens_the_standalone_stream_only_for_lists_the_server_says_change() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        // The strict server announces tools.listChanged, not prompts.listChanged.
        let prompts_only = McpStreamableHttpTool::builder("prompts", server.url())
            .protocol_era(ProtocolEra::Session)
            .load_tools(false)
            .load_prompts(true)
            .build()
            .expect("build");
        prompts_only.connect().await.expect("connect");
        assert!(prompts_only.function("greeting").is_some());
        prompts_only.close().await.expect("close");
        let s = support::server::wait_stats(&server, "sockets closed", |s| s.open_connections == 0)
            .await;
        assert_eq!(s.get_streams_opened, 0, "nothing to follow, yet a stream");

        let tools = McpStreamableHttpTool::builder("tools", server.url())
            .protocol_era(ProtocolEra::Session)
            .build()
            .expect("build");
        tools.connect().await.expect("connect");
        support::server::wait_stats(&server, "the GET stream", |s| s.live_get_streams == 1).await;
        tools.close().await.expect("close");
        let s = support::server::wait_stats(&server, "stream closed", |s| {
            s.live_get_streams == 0 && s.open_connections == 0
        })
        .await;
        assert_eq!(s.get_streams_opened, 1);
        server.shutdown().await;
    })
    .await;
}
