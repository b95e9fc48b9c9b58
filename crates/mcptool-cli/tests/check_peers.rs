//! `mcptool check --url` against real peer servers: isolation holds on each (exit 0), with the
//! warnings their known quirks earn and no failure.

#[path = "../../mcptool/tests/support/peers.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the peer harness serves the library's interop tests too"
)]
mod peers;
mod support;

use peers::{Peer, PyMode};
use serde_json::Value;

async fn check(peer: Peer) -> Option<Value> {
    let process = peers::start(peer).await?;
    let url = process.url();
    let output = tokio::task::spawn_blocking(move || {
        support::mcptool(&[
            "--url",
            &url,
            "--json",
            // The session era's checks, which these assertions are about: some peers serve
            // 2026-07-28 too, and check would otherwise pick it.
            "--protocol",
            "2025-11-25",
            "check",
            "--runs",
            "2",
            "--concurrency",
            "2",
        ])
    })
    .await
    .expect("run mcptool");
    assert_eq!(
        output.code,
        0,
        "check failed against {}:\n{}\n{}",
        peer.name(),
        output.stdout,
        output.stderr
    );
    drop(process);
    Some(output.json())
}

fn verdicts(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["verdict"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn verdict(report: &Value, name: &str) -> String {
    verdicts(report)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_against_server_everything_and_warns_on_its_400() {
    let Some(report) = check(Peer::EverythingStreamable).await else {
        return;
    };
    assert!(
        verdicts(&report).iter().all(|(_, v)| v != "fail"),
        "{report}"
    );
    assert_eq!(verdict(&report, "distinct-session-ids"), "pass");
    assert_eq!(verdict(&report, "delete-accepted"), "pass");
    // A dead session gets 400 there, not 404.
    assert_eq!(verdict(&report, "terminated-session-rejected"), "warn");
    assert_eq!(verdict(&report, "second-standalone-get"), "pass");
    assert_eq!(verdict(&report, "no-leftover-connections"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_against_the_python_sdk_2() {
    let Some(report) = check(Peer::PythonMcp2(PyMode::Sse)).await else {
        return;
    };
    assert!(
        verdicts(&report).iter().all(|(_, v)| v != "fail"),
        "{report}"
    );
    assert_eq!(verdict(&report, "terminated-session-rejected"), "pass");
    assert_eq!(verdict(&report, "second-standalone-get"), "pass");
    assert_eq!(verdict(&report, "no-leftover-connections"), "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_passes_against_the_python_sdk_1() {
    let Some(report) = check(Peer::PythonMcp1(PyMode::Sse)).await else {
        return;
    };
    assert!(
        verdicts(&report).iter().all(|(_, v)| v != "fail"),
        "{report}"
    );
    assert_eq!(verdict(&report, "terminated-session-rejected"), "pass");
    assert_eq!(verdict(&report, "no-leftover-connections"), "pass");
}
