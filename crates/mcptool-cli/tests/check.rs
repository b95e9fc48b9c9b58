//! `mcptool check` in the session era (pinned with `--protocol 2025-11-25`): it passes on the
//! strict server, fails (exit 4) on a misbehaving one, and warns on the variants real servers
//! show. The era found by itself is in `check_eras.rs`.

mod support;

use mcptool_server::{DeadSessionStatus, Faults, RunningServer, Server, ServerConfig};
use serde_json::Value;
use support::{Served, mcptool};

const SESSION_CHECKS: [&str; 8] = [
    "distinct-session-ids",
    "delete-accepted",
    "terminated-session-rejected",
    "protocol-version-header",
    "second-standalone-get",
    "resumption",
    "no-leftover-connections",
    "cross-talk",
];

/// A strict server with `config`, on its own runtime (the binary runs while the test waits).
fn in_process(config: ServerConfig) -> (tokio::runtime::Runtime, RunningServer) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime
        .block_on(Server::start(config))
        .expect("start the server");
    (runtime, server)
}

fn verdict<'a>(report: &'a Value, name: &str) -> &'a str {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))["verdict"]
        .as_str()
        .expect("verdict")
}

fn check_json(url: &str) -> (i32, Value) {
    let out = mcptool(&[
        "check",
        "--protocol",
        "2025-11-25",
        "--url",
        url,
        "--runs",
        "3",
        "--concurrency",
        "3",
        "--timeout",
        "5s",
        "--json",
    ]);
    (out.code, out.json())
}

#[test]
fn check_passes_every_session_era_check_on_the_embedded_strict_server() {
    let out = mcptool(&["check", "--protocol", "2025-11-25"]);
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("checking http://127.0.0.1:"),
        "{}",
        out.stdout
    );
    assert!(
        lines[1].starts_with("era: 2025-11-25 (session "),
        "{}",
        out.stdout
    );
    let headers = lines
        .iter()
        .find(|l| l.contains("headers-honoured"))
        .expect("a headers-honoured line");
    assert!(headers.starts_with("SKIP "), "{headers}");
    for name in SESSION_CHECKS {
        let line = lines
            .iter()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} line"));
        assert!(line.starts_with("PASS "), "{line}");
        assert!(line.contains(" — "), "{line}");
    }
    assert_eq!(
        lines.last(),
        Some(&"isolation holds (8 passed, 0 warnings, 1 skipped)")
    );
}

#[test]
fn check_json_reports_every_check_against_mcptool_serve() {
    let served = Served::start(&["--stats"]);
    let (code, report) = check_json(&served.url);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["passed"], true);
    assert_eq!(report["runs"], 3);
    assert_eq!(report["concurrency"], 3);
    for name in SESSION_CHECKS {
        assert_eq!(verdict(&report, name), "pass", "{report}");
    }
    assert_eq!(verdict(&report, "headers-honoured"), "skip", "{report}");
    assert!(
        report["era"]
            .as_str()
            .is_some_and(|e| e.starts_with("2025-11-25 (session ")),
        "{report}"
    );
    let stats = served.stats();
    assert_eq!(
        stats["sessions_live"], 0,
        "check closed every session it opened: {stats}"
    );
    assert_eq!(
        stats["live_get_streams"], 0,
        "and every GET stream: {stats}"
    );
}

#[test]
fn check_fails_with_exit_4_when_the_server_keeps_terminated_sessions() {
    let faults = Faults {
        delete_status: Some(500),
        accept_terminated_sessions: true,
        ..Faults::default()
    };
    let (_runtime, server) = in_process(ServerConfig::default().faults(faults));
    let (code, report) = check_json(&server.url());
    assert_eq!(code, 4, "{report}");
    assert_eq!(report["passed"], false);
    assert_eq!(verdict(&report, "delete-accepted"), "fail");
    assert_eq!(verdict(&report, "terminated-session-rejected"), "fail");
    let human = mcptool(&[
        "check",
        "--protocol",
        "2025-11-25",
        "--url",
        &server.url(),
        "--runs",
        "1",
        "--concurrency",
        "0",
    ]);
    human.expect_code(4);
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.starts_with("FAIL terminated-session-rejected")),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .ends_with("isolation does NOT hold (2 failed)\n"),
        "{}",
        human.stdout
    );
}

#[test]
fn check_warns_on_the_400_variant_and_on_refused_delete_and_get() {
    let config = ServerConfig::default().faults(Faults {
        dead_session_status: DeadSessionStatus::BadRequest,
        ..Faults::default()
    });
    let (_runtime, server) = in_process(config);
    let (code, report) = check_json(&server.url());
    assert_eq!(code, 0, "{report}");
    assert_eq!(verdict(&report, "terminated-session-rejected"), "warn");

    let (_runtime2, server) = in_process(
        ServerConfig::default()
            .allow_delete(false)
            .get_stream(false),
    );
    let (code, report) = check_json(&server.url());
    assert_eq!(code, 0, "{report}");
    assert_eq!(verdict(&report, "delete-accepted"), "warn");
    assert_eq!(verdict(&report, "second-standalone-get"), "pass");
    let detail = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "second-standalone-get")
        .expect("get")["detail"]
        .as_str()
        .expect("detail")
        .to_owned();
    assert!(detail.contains("405"), "{detail}");
}

#[test]
fn check_exits_3_when_the_server_is_unreachable() {
    let out = mcptool(&[
        "check",
        "--url",
        &support::unreachable_url(),
        "--timeout",
        "2s",
    ]);
    out.expect_code(3);
    assert!(
        out.stderr
            .starts_with("mcptool: cannot connect to http://127.0.0.1:"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_warns_that_json_responses_cannot_be_resumed() {
    let served = Served::start(&["--json-responses"]);
    let (code, report) = check_json(&served.url);
    assert_eq!(code, 0, "{report}");
    assert_eq!(verdict(&report, "resumption"), "warn");
    assert_eq!(verdict(&report, "distinct-session-ids"), "pass");
}
