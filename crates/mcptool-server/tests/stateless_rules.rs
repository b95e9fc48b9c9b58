//! The 2026-07-28 rules, one test per rule, on a dual-era server and on a stateless-only one:
//! `server/discover`, `_meta`, the routing headers, versions, methods, capabilities, result
//! fields, GET/DELETE, session ids, Origin, log levels and error codes.

mod support;

use mcptool_server::{Era, ServerConfig};
use serde_json::{Value, json};
use support::{MODERN, Reply, TestServer, all_capabilities, modern_request, next_modern_id, run};

/// The server configurations that speak 2026-07-28.
const MODERN_ERAS: [Era; 2] = [Era::Both, Era::Stateless];

async fn server(era: Era) -> TestServer {
    TestServer::start(ServerConfig::default().era(era)).await
}

fn error_code(reply: &Reply) -> i64 {
    reply.response()["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {}", reply.body))
}

#[tokio::test]
async fn discover_names_versions_capabilities_server_and_caching() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let reply = t.modern("server/discover", json!({})).await;
            assert_eq!(reply.status, 200, "{era:?}: {}", reply.body);
            let result = &reply.response()["result"];
            let versions: Vec<&str> = result["supportedVersions"]
                .as_array()
                .expect("versions")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            match era {
                Era::Both => {
                    assert_eq!(versions, [MODERN, "2025-11-25", "2025-06-18", "2025-03-26"])
                }
                _ => assert_eq!(versions, [MODERN]),
            }
            assert_eq!(result["resultType"], "complete");
            assert_eq!(result["capabilities"]["tools"]["listChanged"], true);
            assert_eq!(result["capabilities"]["resources"]["subscribe"], true);
            assert!(result["instructions"].is_string());
            assert_eq!(
                result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
                "mcptool-server"
            );
            assert_eq!(result["ttlMs"], 60_000);
            assert_eq!(result["cacheScope"], "public");
            let snap = t.snapshot();
            assert_eq!(snap.discover_calls, 1);
            assert_eq!(snap.caching_hints, 1);
            assert_eq!(snap.stateless_requests, 1);
            assert_eq!(snap.sessions_opened, 0, "no session in 2026-07-28");
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_missing_or_mistyped_meta_field_is_400_invalid_params() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let cases = [
                (json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}), "params._meta is required"),
                (
                    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/clientCapabilities": {}}}}),
                    "missing io.modelcontextprotocol/protocolVersion",
                ),
                (
                    json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}}}),
                    "missing io.modelcontextprotocol/clientCapabilities",
                ),
                (
                    json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/logLevel": 3}}}),
                    "logLevel must be",
                ),
            ];
            for (body, expected) in cases {
                let reply = Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
                assert_eq!(reply.status, 400, "{era:?} {body}: {}", reply.body);
                assert_eq!(error_code(&reply), -32602);
                let message = reply.response()["error"]["message"].as_str().unwrap_or("").to_owned();
                assert!(message.contains(expected), "{message}");
            }
            // clientInfo is never required.
            let body = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}}});
            let reply = Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            assert_eq!(t.snapshot().stateless_errors.get(&-32602), Some(&4));
            t.finish().await;
        }
    })
    .await;
}

/// Sends `tools/call echo` with the standard headers replaced by `headers`.
async fn echo_with(t: &TestServer, headers: &[(&str, &str)]) -> Reply {
    let body = modern_request(
        next_modern_id(),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
        json!({}),
    );
    let mut builder = t.post_builder(None, &body);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    Reply::read(builder.send().await.expect("POST")).await
}

#[tokio::test]
async fn each_standard_header_mismatch_is_400_header_mismatch() {
    run(async {
        let good = [
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
        ];
        for era in MODERN_ERAS {
            let t = server(era).await;
            assert_eq!(echo_with(&t, &good).await.status, 200);
            let encoded =
                echo_with(&t, &[good[0], good[1], ("mcp-name", "=?base64?ZWNobw==?=")]).await;
            assert_eq!(
                encoded.status, 200,
                "a base64 Mcp-Name is decoded first: {}",
                encoded.body
            );
            let cases: [(&[(&str, &str)], &str); 6] = [
                (&[good[0], good[2]], "mcp-method"),
                (
                    &[good[0], ("mcp-method", "tools/list"), good[2]],
                    "mcp-method",
                ),
                (&[good[0], good[1]], "mcp-name"),
                (&[good[0], good[1], ("mcp-name", "add")], "mcp-name"),
                (
                    &[good[0], good[1], ("mcp-name", "=?base64?%%%?=")],
                    "mcp-name",
                ),
                (
                    &[("mcp-protocol-version", "2099-01-01"), good[1], good[2]],
                    "mcp-protocol-version",
                ),
            ];
            for (headers, kind) in cases {
                let reply = echo_with(&t, headers).await;
                assert_eq!(reply.status, 400, "{era:?} {headers:?}: {}", reply.body);
                assert_eq!(error_code(&reply), -32020, "{}", reply.body);
                assert!(
                    reply.body.to_ascii_lowercase().contains(kind),
                    "names {kind}: {}",
                    reply.body
                );
            }
            // In the dual-era server a request without the version header but with a modern
            // `_meta` is still stateless, and the missing header is the mismatch.
            let missing = echo_with(&t, &[good[1], good[2]]).await;
            assert_eq!(missing.status, 400, "{}", missing.body);
            assert_eq!(error_code(&missing), -32020);
            let snap = t.snapshot();
            assert_eq!(snap.header_mismatches.get("mcp-method"), Some(&2));
            assert_eq!(snap.header_mismatches.get("mcp-name"), Some(&3));
            assert_eq!(snap.header_mismatches.get("mcp-protocol-version"), Some(&2));
            t.finish().await;
        }
    })
    .await;
}

/// Calls `route` with `arguments` and the extra `Mcp-Param-*` headers.
async fn route_with(t: &TestServer, arguments: Value, params: &[(&str, &str)]) -> Reply {
    let body = modern_request(
        next_modern_id(),
        "tools/call",
        json!({"name": "route", "arguments": arguments}),
        json!({}),
    );
    let mut builder = t.modern_builder(&body);
    for (name, value) in params {
        builder = builder.header(*name, *value);
    }
    Reply::read(builder.send().await.expect("POST")).await
}

#[tokio::test]
async fn mirrored_tool_parameters_must_match_their_headers() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let args = json!({"region": "Hello, 世界", "priority": 42, "urgent": true, "target": {"zone": "z1"}, "note": "free"});
            let headers = [
                ("mcp-param-region", "=?base64?SGVsbG8sIOS4lueVjA==?="),
                ("mcp-param-priority", "42"),
                ("mcp-param-urgent", "true"),
                ("mcp-param-zone", "z1"),
            ];
            let ok = route_with(&t, args.clone(), &headers).await;
            assert_eq!(ok.status, 200, "{}", ok.body);
            assert_eq!(ok.response()["result"]["structuredContent"]["region"], "Hello, 世界");
            // A null or absent argument has no header.
            let ok = route_with(&t, json!({"region": "eu", "priority": null}), &[("mcp-param-region", "eu")]).await;
            assert_eq!(ok.status, 200, "{}", ok.body);
            let bad: [(Value, Vec<(&str, &str)>); 4] = [
                (json!({"region": "eu"}), vec![]),
                (json!({"region": "eu"}), vec![("mcp-param-region", "us")]),
                (json!({"region": "eu", "priority": 7}), vec![("mcp-param-region", "eu"), ("mcp-param-priority", "8")]),
                (json!({"region": "eu"}), vec![("mcp-param-region", "eu"), ("mcp-param-urgent", "true")]),
            ];
            for (args, headers) in bad {
                let reply = route_with(&t, args.clone(), &headers).await;
                assert_eq!(reply.status, 400, "{args} {headers:?}: {}", reply.body);
                assert_eq!(error_code(&reply), -32020);
            }
            let snap = t.snapshot();
            assert_eq!(snap.header_mismatches.get("mcp-param-region"), Some(&2));
            assert_eq!(snap.header_mismatches.get("mcp-param-priority"), Some(&1));
            assert_eq!(snap.header_mismatches.get("mcp-param-urgent"), Some(&1));
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_unsupported_version_is_400_with_the_supported_list() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let mut body = modern_request(next_modern_id(), "tools/list", json!({}), json!({}));
            body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] =
                json!("2099-01-01");
            let reply = Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
            assert_eq!(reply.status, 400, "{}", reply.body);
            let error = &reply.response()["error"];
            assert_eq!(error["code"], -32022);
            assert_eq!(error["data"]["requested"], "2099-01-01");
            assert_eq!(error["data"]["supported"][0], MODERN);
            assert!(error["message"].as_str().unwrap_or("").contains(MODERN));
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_tool_that_needs_an_undeclared_capability_is_400_missing_capability() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            for (tool, capability) in [
                ("ask", "elicitation"),
                ("sample", "sampling"),
                ("roots", "roots"),
            ] {
                let body = modern_request(
                    next_modern_id(),
                    "tools/call",
                    json!({"name": tool, "arguments": {"question": "q", "prompt": "p"}}),
                    json!({"elicitation": {"url": {}}}),
                );
                let reply = Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
                assert_eq!(reply.status, 400, "{tool}: {}", reply.body);
                let error = &reply.response()["error"];
                assert_eq!(error["code"], -32021);
                assert!(
                    error["data"]["requiredCapabilities"][capability].is_object(),
                    "{error}"
                );
            }
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn session_era_and_unknown_methods_are_404_method_not_found() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            for method in ["ping", "logging/setLevel", "resources/subscribe", "no/such"] {
                let reply = t.modern(method, json!({})).await;
                assert_eq!(reply.status, 404, "{method}: {}", reply.body);
                assert_eq!(error_code(&reply), -32601);
            }
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn results_carry_result_type_and_cacheable_ones_caching_hints() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            for (method, params) in [
                ("tools/list", json!({})),
                ("prompts/list", json!({})),
                ("resources/list", json!({})),
                ("resources/templates/list", json!({})),
                ("resources/read", json!({"uri": "demo://readme"})),
            ] {
                let result = t.modern(method, params).await.response()["result"].clone();
                assert_eq!(result["resultType"], "complete", "{method}: {result}");
                assert_eq!(result["ttlMs"], 60_000, "{method}");
                assert_eq!(result["cacheScope"], "public", "{method}");
            }
            let call = t.modern_call("echo", json!({"message": "hi"})).await;
            assert_eq!(call["result"]["resultType"], "complete");
            assert!(
                call["result"].get("ttlMs").is_none(),
                "a call is not cacheable"
            );
            assert_eq!(
                call["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
                "mcptool-server"
            );
            assert_eq!(t.snapshot().caching_hints, 5);
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn an_unknown_resource_is_invalid_params_not_the_old_code() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let reply = t
                .modern("resources/read", json!({"uri": "demo://nothing"}))
                .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            assert_eq!(error_code(&reply), -32602);
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn get_and_delete_are_405_and_session_headers_are_ignored() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let get = t
                .http
                .get(&t.url)
                .header("accept", "text/event-stream")
                .header("mcp-protocol-version", MODERN)
                .send()
                .await
                .expect("GET");
            assert_eq!(get.status(), 405);
            assert_eq!(get.headers()["allow"], "POST");
            let delete = t
                .http
                .delete(&t.url)
                .header("mcp-protocol-version", MODERN)
                .send()
                .await
                .expect("DELETE");
            assert_eq!(delete.status(), 405);
            let body = modern_request(next_modern_id(), "tools/list", json!({}), json!({}));
            let reply = Reply::read(
                t.modern_builder(&body)
                    .header("mcp-session-id", "not-a-session")
                    .header("last-event-id", "0-1")
                    .send()
                    .await
                    .expect("POST"),
            )
            .await;
            assert_eq!(reply.status, 200, "a session id is ignored: {}", reply.body);
            assert!(
                reply.header("mcp-session-id").is_none(),
                "no session id is minted or echoed"
            );
            let snap = t.snapshot();
            assert_eq!(snap.stateless_session_ids_ignored, 1);
            assert_eq!(snap.sessions_opened, 0);
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_foreign_origin_is_403_in_2026_07_28_too() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let body = modern_request(next_modern_id(), "server/discover", json!({}), json!({}));
            let reply = Reply::read(
                t.modern_builder(&body)
                    .header("origin", "https://evil.example")
                    .send()
                    .await
                    .expect("POST"),
            )
            .await;
            assert_eq!(reply.status, 403);
            assert_eq!(t.snapshot().discover_calls, 0);
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn log_messages_flow_on_the_call_stream_only_when_meta_asks() {
    run(async {
        for era in MODERN_ERAS {
            let t = server(era).await;
            let args = json!({"name": "log", "arguments": {"level": "error", "message": "boom"}});
            let quiet = t.modern("tools/call", args.clone()).await;
            assert!(
                quiet.messages().iter().all(|m| m.get("method").is_none()),
                "{}",
                quiet.body
            );
            for (level, expect) in [("warning", true), ("critical", false)] {
                let mut body =
                    modern_request(next_modern_id(), "tools/call", args.clone(), json!({}));
                body["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!(level);
                let reply = Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
                let logs: Vec<Value> = reply
                    .messages()
                    .into_iter()
                    .filter(|m| m["method"] == "notifications/message")
                    .collect();
                assert_eq!(logs.len(), usize::from(expect), "{level}: {}", reply.body);
                if expect {
                    assert_eq!(logs[0]["params"]["data"], "boom");
                }
                assert_eq!(reply.response()["result"]["content"][0]["text"], "logged");
            }
            t.finish().await;
        }
    })
    .await;
}

#[tokio::test]
async fn progress_flows_on_the_call_stream_without_event_ids() {
    run(async {
        let t = server(Era::Both).await;
        let reply = t
            .modern(
                "tools/call",
                json!({"name": "sleep", "arguments": {"ms": 30, "steps": 3}, "_meta": {"progressToken": "p"}}),
            )
            .await;
        let events = reply.events();
        assert!(events.iter().all(|e| e.id.is_none() && e.retry.is_none()), "no ids, no priming: {}", reply.body);
        let progress = reply
            .messages()
            .into_iter()
            .filter(|m| m["method"] == "notifications/progress")
            .count();
        assert_eq!(progress, 3);
        assert_eq!(reply.response()["result"]["content"][0]["text"], "slept 30 ms");
        t.finish().await;
    })
    .await;
}

#[tokio::test]
async fn every_capability_declared_lets_every_tool_start() {
    run(async {
        let t = server(Era::Stateless).await;
        let body = modern_request(
            next_modern_id(),
            "tools/call",
            json!({"name": "ask", "arguments": {"question": "q"}}),
            all_capabilities(),
        );
        let reply = Reply::read(t.modern_builder(&body).send().await.expect("POST")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.response()["result"]["resultType"], "input_required");
        t.finish().await;
    })
    .await;
}
