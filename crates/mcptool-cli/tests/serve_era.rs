//! `mcptool serve --era`: the served endpoint speaks the eras asked for, as a client on the wire
//! sees it.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};
use support::Served;

/// One raw HTTP/1.1 exchange with the served endpoint: the status and the body.
fn exchange(served: &Served, method: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let rest = served.url.trim_start_matches("http://");
    let (authority, path) = rest.split_once('/').expect("a path");
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn discover_body() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }}})
    .to_string()
}

const MODERN_HEADERS: [(&str, &str); 4] = [
    ("Content-Type", "application/json"),
    ("Accept", "application/json, text/event-stream"),
    ("MCP-Protocol-Version", "2026-07-28"),
    ("Mcp-Method", "server/discover"),
];

#[test]
fn serve_era_stateless_speaks_only_2026_07_28() {
    let served = Served::start(&["--era", "stateless", "--json-responses"]);
    let (status, body) = exchange(&served, "POST", &MODERN_HEADERS, &discover_body());
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["result"]["supportedVersions"], json!(["2026-07-28"]));
    let (status, _) = exchange(&served, "GET", &[("Accept", "text/event-stream")], "");
    assert_eq!(status, 405, "no GET stream in 2026-07-28");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (status, body) = exchange(&served, "POST", &MODERN_HEADERS[..2], &init.to_string());
    assert_eq!(status, 400);
    assert!(body.contains("-32022"), "{body}");
}

#[test]
fn serve_era_sessions_answers_a_modern_request_as_an_old_server() {
    let served = Served::start(&["--era", "sessions", "--json-responses"]);
    let (status, body) = exchange(&served, "POST", &MODERN_HEADERS, &discover_body());
    assert_eq!(status, 400, "{body}");
    assert!(
        !body.contains("-32022") && !body.contains("-32020"),
        "no modern error: {body}"
    );
}

#[test]
fn serve_defaults_to_both_eras() {
    let served = Served::start(&["--json-responses"]);
    let (status, body) = exchange(&served, "POST", &MODERN_HEADERS, &discover_body());
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(answer["result"]["supportedVersions"][1], "2025-11-25");
}

#[test]
fn protocol_2026_07_28_calls_a_stateless_server() {
    let served = Served::start(&["--era", "stateless", "--stats"]);
    let out = support::mcptool(&[
        "--url",
        &served.url,
        "--protocol",
        "2026-07-28",
        "call",
        "echo",
        "message=modern",
    ]);
    out.expect_code(0);
    assert_eq!(out.stdout.trim(), "modern");
    let stats = served.stats();
    assert_eq!(stats["sessions_opened"], 0, "{stats}");
    assert_eq!(stats["discover_calls"], 1, "{stats}");
    assert_eq!(stats["deletes"], 0, "{stats}");
}

#[test]
fn protocol_2026_07_28_against_a_session_only_server_fails_clearly() {
    let served = Served::start(&["--era", "sessions"]);
    let out = support::mcptool(&["--url", &served.url, "--protocol", "2026-07-28", "tools"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stderr.contains("400"), "{}", out.stderr);
}

#[test]
fn protocol_auto_finds_the_era_of_each_served_mode() {
    for (era, sessions) in [("stateless", 0), ("sessions", 1), ("both", 0)] {
        let served = Served::start(&["--era", era, "--stats"]);
        let out = support::mcptool(&[
            "--url",
            &served.url,
            "--protocol",
            "auto",
            "call",
            "echo",
            "message=found",
        ]);
        out.expect_code(0);
        assert_eq!(out.stdout.trim(), "found", "{era}");
        let stats = served.stats();
        assert_eq!(stats["sessions_opened"], sessions, "{era}: {stats}");
    }
}

#[test]
fn an_unknown_protocol_is_a_usage_error_that_lists_auto() {
    let out = support::mcptool(&["--protocol", "2099-01-01", "tools"]);
    out.expect_code(2);
    assert!(out.stderr.contains("auto"), "{}", out.stderr);
}

/// The `connected:` line `-v` prints on stderr.
fn connected_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("connected: "))
        .unwrap_or_else(|| panic!("no connected: line in {stderr}"))
}

#[test]
fn verbose_names_the_era_each_served_mode_was_found_in() {
    for (era, protocol, expected) in [
        (
            "stateless",
            "auto",
            "connected: 2026-07-28 (stateless, no session)",
        ),
        (
            "both",
            "auto",
            "connected: 2026-07-28 (stateless, no session)",
        ),
        (
            "both",
            "2026-07-28",
            "connected: 2026-07-28 (stateless, no session)",
        ),
        ("sessions", "auto", "connected: 2025-11-25 (session "),
        ("both", "2025-11-25", "connected: 2025-11-25 (session "),
        ("both", "2025-06-18", "connected: 2025-06-18 (session "),
    ] {
        let served = Served::start(&["--era", era, "--stats"]);
        let out = support::mcptool(&[
            "-v",
            "--url",
            &served.url,
            "--protocol",
            protocol,
            "call",
            "echo",
            "message=hi",
        ]);
        out.expect_code(0);
        assert_eq!(out.stdout.trim(), "hi", "results stay on stdout");
        let line = connected_line(&out.stderr);
        assert!(line.starts_with(expected), "{era} {protocol}: {line}");
        let stats = served.stats();
        let sessions = stats["sessions_opened"].as_u64().expect("a count");
        if expected.contains("stateless") {
            assert_eq!(sessions, 0, "{era} {protocol}: {stats}");
        } else {
            assert_eq!(sessions, 1, "{era} {protocol}: {stats}");
            // The id shown is a prefix of the real one, never all of it.
            let shown = line
                .trim_start_matches(expected)
                .trim_end_matches("…)")
                .to_owned();
            let real = stats["session_ids"][0].as_str().expect("an id").to_owned();
            assert!(
                real.starts_with(&shown) && shown.len() < real.len(),
                "{line} vs {real}"
            );
        }
    }
}

#[test]
fn without_verbose_no_era_is_printed() {
    let served = Served::start(&["--era", "sessions"]);
    let out = support::mcptool(&["--url", &served.url, "call", "echo", "message=hi"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("connected:"), "{}", out.stderr);
}
