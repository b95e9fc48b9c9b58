//! Headers reach the server on every request — static ones, bearer tokens and provided ones —
//! and never appear in our `Debug` output.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mcptool::{Client, HeaderProvider, McpStreamableHttpTool, ProtocolEra};
use serde_json::json;
use support::server::start_default;
use support::within;

fn header<'a>(record: &'a mcptool_server::RequestRecord, name: &str) -> Option<&'a str> {
    record
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn static_bearer_and_provided_headers_are_on_every_request() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let provider = HeaderProvider::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok(vec![("x-fresh-token".to_owned(), format!("token-{n}"))]) }
        });
        let client = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .bearer_token("s3cret-token")
            .header("x-team", "agents")
            .header_provider(provider)
            .standalone_stream(true)
            .connect()
            .await
            .expect("connect");
        client
            .call_tool("echo", json!({"message": "x"}))
            .await
            .expect("echo");
        support::server::wait_stats(&server, "the GET stream", |s| s.get_streams_opened == 1).await;
        client.close().await.expect("close");
        let records = server.stats().requests();
        assert!(records.len() >= 5, "{records:?}");
        for r in &records {
            assert_eq!(
                header(r, "authorization"),
                Some("Bearer s3cret-token"),
                "{r:?}"
            );
            assert_eq!(header(r, "x-team"), Some("agents"), "{r:?}");
            assert!(
                header(r, "x-fresh-token").is_some_and(|v| v.starts_with("token-")),
                "{r:?}"
            );
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            records.len(),
            "one provider call per request"
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_tool_sends_its_bearer_token_and_never_prints_it() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let tool = McpStreamableHttpTool::builder("demo", server.url())
            .protocol_era(ProtocolEra::Session)
            .bearer_token("tool-secret")
            .build()
            .expect("build");
        tool.connect().await.expect("connect");
        tool.invoke("echo", json!({"message": "x"}))
            .await
            .expect("invoke");
        let printed = format!("{tool:?} {:?}", tool.client());
        assert!(!printed.contains("tool-secret"), "{printed}");
        let session = tool.session_id().expect("session");
        assert!(
            !printed.contains(session.as_str()),
            "full session id printed: {printed}"
        );
        tool.close().await.expect("close");
        assert!(
            server
                .stats()
                .requests()
                .iter()
                .all(|r| header(r, "authorization") == Some("Bearer tool-secret"))
        );
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_failing_header_provider_fails_the_request_with_a_config_error() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let err = Client::builder(server.url())
            .protocol_era(ProtocolEra::Session)
            .header_provider(HeaderProvider::new(|| async {
                Err("token service down".to_owned())
            }))
            .connect()
            .await
            .expect_err("no headers, no request");
        assert_eq!(err.kind(), mcptool::ErrorKind::Config);
        assert!(err.to_string().contains("token service down"), "{err}");
        assert_eq!(server.stats().snapshot().sessions_opened, 0);
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_provided_header_with_a_line_break_is_refused_and_nothing_is_sent() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        for era in [ProtocolEra::Session, ProtocolEra::Stateless] {
            for (name, value) in [("x-token", "a\r\nx-injected: 1"), ("bad name", "v")] {
                let err = Client::builder(server.url())
                    .protocol_era(era)
                    .header_provider(HeaderProvider::new(move || async move {
                        Ok(vec![(name.to_owned(), value.to_owned())])
                    }))
                    .connect()
                    .await
                    .expect_err("an invalid header is never sent");
                assert_eq!(err.kind(), mcptool::ErrorKind::Config, "{era:?}: {err}");
                assert!(err.to_string().contains("header provider"), "{err}");
            }
        }
        let seen = server.stats().snapshot();
        assert_eq!(seen.total_connections, 0, "no request reached the server");
        server.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn every_request_carries_one_host_header_and_a_configured_one_wins() {
    within(Duration::from_secs(30), async {
        let server = start_default().await;
        let url = server.url();
        let authority = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .expect("authority")
            .to_owned();
        let run = |client: Client| async move {
            client
                .call_tool("echo", json!({"message": "x"}))
                .await
                .expect("echo");
            client.list_tools().await.expect("tools/list");
            client.close().await.expect("close");
        };
        run(Client::builder(&url)
            .protocol_era(ProtocolEra::Session)
            .connect()
            .await
            .expect("connect"))
        .await;
        let first = server.stats().requests().len();
        run(Client::builder(&url)
            .protocol_era(ProtocolEra::Session)
            .header("host", "mcp.internal:8443")
            .connect()
            .await
            .expect("connect"))
        .await;
        let records = server.stats().requests();
        assert!(first >= 4 && records.len() >= first + 4, "{records:?}");
        for (i, r) in records.iter().enumerate() {
            let hosts: Vec<&str> = r
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
                .map(|(_, v)| v.as_str())
                .collect();
            let want = if i < first {
                authority.as_str()
            } else {
                "mcp.internal:8443"
            };
            assert_eq!(hosts, [want], "request {i}: {r:?}");
        }
        server.shutdown().await;
    })
    .await;
}
