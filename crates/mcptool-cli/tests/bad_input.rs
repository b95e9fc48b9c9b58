//! Bad input gets a one-line error naming the problem and what to try, the right exit code,
//! and no stack trace unless `-v`.

mod support;

use support::{Output, html_server, mcptool, unreachable_url};

/// Asserts exit `code` and a single `mcptool: ...` line on stderr containing `needle`.
fn one_line_error(out: &Output, code: i32, needle: &str) {
    out.expect_code(code);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line only:\n{}", out.stderr);
    assert!(lines[0].starts_with("mcptool: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
    assert!(
        lines[0].contains('(') && lines[0].ends_with(')'),
        "says what to try: {}",
        lines[0]
    );
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
}

/// `mcptool --protocol 2025-11-25 ARGS` against the embedded server. Its demo tools include one
/// with a deliberately invalid `x-mcp-header`, which a 2026-07-28 client warns about on stderr;
/// these tests are about the one error line, so they pin the era whatever the default.
fn session_era(args: &[&str]) -> Output {
    let mut all = vec!["--protocol", "2025-11-25"];
    all.extend_from_slice(args);
    mcptool(&all)
}

#[test]
fn malformed_key_value_is_a_usage_error() {
    one_line_error(
        &session_era(&["call", "echo", "message"]),
        2,
        "malformed argument \"message\"",
    );
    one_line_error(
        &session_era(&["prompt", "greeting", "=Ada"]),
        2,
        "expected key=value",
    );
}

#[test]
fn a_value_of_the_wrong_type_is_a_usage_error() {
    one_line_error(
        &session_era(&["call", "add", "a=two", "b=1"]),
        2,
        "argument \"a\" must be a JSON number",
    );
}

#[test]
fn json_that_does_not_parse_is_a_usage_error() {
    one_line_error(
        &session_era(&["call", "echo", r#"{"message": "#]),
        2,
        "not valid JSON",
    );
    one_line_error(
        &session_era(&["call", "echo", "[1, 2]"]),
        2,
        "must be an object",
    );
}

#[test]
fn an_unknown_tool_is_a_usage_error_listing_the_tools() {
    let out = session_era(&["call", "nope"]);
    one_line_error(&out, 2, "unknown tool \"nope\"");
    assert!(out.stderr.contains("echo"), "{}", out.stderr);
}

#[test]
fn an_unknown_prompt_is_a_usage_error() {
    one_line_error(
        &session_era(&["prompt", "nope"]),
        2,
        "getting prompt nope failed",
    );
}

#[test]
fn an_unreachable_url_is_a_connection_error() {
    let url = unreachable_url();
    one_line_error(
        &mcptool(&["tools", "--url", &url, "--timeout", "2s"]),
        3,
        "cannot connect to",
    );
}

#[test]
fn verbose_errors_show_their_causes() {
    let out = mcptool(&[
        "tools",
        "--url",
        &unreachable_url(),
        "--timeout",
        "2s",
        "-v",
    ]);
    out.expect_code(3);
    assert!(out.stderr.contains("caused by:"), "{}", out.stderr);
}

#[test]
fn a_web_page_is_not_an_mcp_endpoint() {
    let url = html_server();
    one_line_error(
        &mcptool(&["tools", "--url", &url, "--timeout", "2s"]),
        3,
        "MCP",
    );
}

#[test]
fn a_header_without_a_colon_is_a_usage_error() {
    one_line_error(
        &mcptool(&["tools", "-H", "X-Api-Key secret"]),
        2,
        "malformed header",
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    one_line_error(
        &mcptool(&["tools", "--protocol", "2024-01-01"]),
        2,
        "unknown protocol version",
    );
    one_line_error(
        &mcptool(&["tools", "--timeout", "soon"]),
        2,
        "invalid duration",
    );
    mcptool(&["frobnicate"]).expect_code(2);
}
