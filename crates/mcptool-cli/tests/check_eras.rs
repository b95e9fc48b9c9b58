//! `mcptool check` finds the server's protocol era by itself (or as `--protocol` pins it),
//! prints it, runs the checks that fit that era and skips the others with the reason.

mod support;

use serde_json::Value;
use support::{Served, mcptool};

const SESSION_ONLY: [&str; 5] = [
    "distinct-session-ids",
    "delete-accepted",
    "terminated-session-rejected",
    "second-standalone-get",
    "resumption",
];
const STATELESS_PASSES: [&str; 4] = [
    "protocol-version-header",
    "headers-honoured",
    "no-leftover-connections",
    "cross-talk",
];

fn check(url: &str, protocol: Option<&str>, json: bool) -> support::Output {
    let mut args = vec!["check", "--url", url, "--runs", "3", "--concurrency", "3"];
    if let Some(protocol) = protocol {
        args.extend(["--protocol", protocol]);
    }
    if json {
        args.push("--json");
    }
    mcptool(&args)
}

fn finding<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

#[test]
fn check_finds_a_stateless_server_and_skips_what_sessions_need() {
    let served = Served::start(&["--era", "stateless", "--stats"]);
    let out = check(&served.url, None, false);
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[1], "era: 2026-07-28 (stateless, no session)",
        "{}",
        out.stdout
    );
    let line = |name: &str| {
        *lines
            .iter()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap_or_else(|| panic!("no {name} line in {}", out.stdout))
    };
    for name in SESSION_ONLY {
        assert!(line(name).starts_with("SKIP "), "{}", line(name));
        assert!(
            line(name).contains("2026-07-28"),
            "the reason names the era: {}",
            line(name)
        );
    }
    for name in STATELESS_PASSES {
        assert!(line(name).starts_with("PASS "), "{}", line(name));
    }
    assert_eq!(
        lines.last(),
        Some(&"isolation holds (4 passed, 0 warnings, 5 skipped)")
    );
    let stats = served.stats();
    assert_eq!(stats["sessions_opened"], 0, "{stats}");
    assert_eq!(stats["deletes"], 0, "{stats}");
    // Each of the 5 sequential lifecycles waits for its listen stream (a concurrent one may
    // close before its stream is open, on a loaded machine); none outlived its client.
    assert!(
        stats["listen_streams_opened"].as_u64() >= Some(5),
        "{stats}"
    );
    assert_eq!(stats["listen_streams_live"], 0, "{stats}");
    // The mismatch probe was refused on its Mcp-Name; the sentinel probe and reads were not.
    assert_eq!(stats["header_mismatches"]["mcp-name"], 1, "{stats}");
    assert_eq!(
        stats["methods"]["tools/call"].as_u64(),
        Some(6 + 2),
        "{stats}"
    );
}

#[test]
fn check_json_reports_the_stateless_findings_with_their_evidence() {
    let served = Served::start(&["--era", "stateless", "--json-responses"]);
    let out = check(&served.url, Some("2026-07-28"), true);
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["era"], "2026-07-28 (stateless, no session)");
    for name in SESSION_ONLY {
        assert_eq!(finding(&report, name)["verdict"], "skip", "{report}");
    }
    let headers = finding(&report, "headers-honoured")["detail"]
        .as_str()
        .expect("detail");
    assert!(headers.contains("base64 sentinel"), "{headers}");
    assert!(headers.contains("400 with -32020"), "{headers}");
    let cross = finding(&report, "cross-talk")["detail"]
        .as_str()
        .expect("detail");
    assert!(cross.contains("6 clients, 3 of them at once"), "{cross}");
}

#[test]
fn check_finds_a_session_only_server_and_skips_the_stateless_headers() {
    let served = Served::start(&["--era", "sessions", "--stats"]);
    let out = check(&served.url, None, true);
    out.expect_code(0);
    let report = out.json();
    let era = report["era"].as_str().expect("era");
    assert!(era.starts_with("2025-11-25 (session "), "{era}");
    for name in SESSION_ONLY {
        assert_eq!(finding(&report, name)["verdict"], "pass", "{report}");
    }
    let headers = finding(&report, "headers-honoured");
    assert_eq!(headers["verdict"], "skip", "{report}");
    let stats = served.stats();
    assert_eq!(stats["sessions_live"], 0, "{stats}");
    assert_eq!(stats["listen_streams_opened"], 0, "{stats}");
}

/// The checks a report skipped.
fn skipped(report: &Value) -> usize {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["verdict"] == "skip")
        .count()
}

#[test]
fn check_on_a_dual_era_server_follows_the_pin() {
    let served = Served::start(&["--era", "both"]);
    for (protocol, era) in [
        (Some("2026-07-28"), "2026-07-28 (stateless"),
        (Some("2025-11-25"), "2025-11-25 (session "),
        (Some("2025-06-18"), "2025-06-18 (session "),
    ] {
        let out = check(&served.url, protocol, true);
        out.expect_code(0);
        let report = out.json();
        let found = report["era"].as_str().expect("era");
        assert!(found.starts_with(era), "{protocol:?}: {found}");
        let expected = if era.contains("stateless") { 5 } else { 1 };
        assert_eq!(skipped(&report), expected, "{report}");
    }
}

#[test]
fn automatic_check_on_a_dual_era_server_checks_both_eras() {
    let served = Served::start(&["--era", "both", "--stats"]);
    for protocol in [None, Some("auto")] {
        let out = check(&served.url, protocol, true);
        out.expect_code(0);
        let reports = out.json();
        let reports = reports.as_array().expect("one report per era");
        let eras: Vec<&str> = reports
            .iter()
            .map(|r| r["era"].as_str().expect("era"))
            .collect();
        assert_eq!(reports.len(), 2, "{eras:?}");
        assert!(eras[0].starts_with("2026-07-28 (stateless"), "{eras:?}");
        assert!(eras[1].starts_with("2025-11-25 (session "), "{eras:?}");
        assert_eq!((skipped(&reports[0]), skipped(&reports[1])), (5, 1));
    }
    let stats = served.stats();
    assert!(stats["sessions_opened"].as_u64() > Some(0), "{stats}");
    assert_eq!(stats["sessions_live"], 0, "{stats}");
    assert_eq!(stats["listen_streams_live"], 0, "{stats}");
}

#[test]
fn check_pinned_to_2026_07_28_against_a_session_only_server_exits_3() {
    let served = Served::start(&["--era", "sessions"]);
    let out = check(&served.url, Some("2026-07-28"), false);
    out.expect_code(3);
    assert!(out.stdout.is_empty(), "no report: {}", out.stdout);
    assert!(out.stderr.contains("400"), "{}", out.stderr);
}
