//! Runs the benchmark in its smoke mode against the in-repo server and checks the shape of its
//! JSON report: every client keyed by name, every figure a positive number. No timing
//! thresholds: this proves the machinery works, it does not judge speed.
//!
//! `harness = false`: the benchmark re-runs this executable as its memory child, so `main` must
//! hand over to the child first.

use serde_json::Value;

const FIGURES: [&str; 5] = [
    "sequential_calls_per_s",
    "concurrent_calls_per_s",
    "p50_us",
    "p99_us",
    "connect_close_ms",
];

fn positive(value: &Value) -> bool {
    value.as_f64().is_some_and(|v| v.is_finite() && v > 0.0)
}

fn check_client(json: &Value, name: &str) {
    let client = json
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {json}"));
    for key in FIGURES {
        assert!(
            client.get(key).is_some_and(positive),
            "{name}.{key} is not a positive number: {client}"
        );
    }
    for key in ["sequential", "concurrent", "connect_close"] {
        assert!(
            client["ratio_to_floor"].get(key).is_some_and(positive),
            "{name}.ratio_to_floor.{key} is not a positive number: {client}"
        );
    }
}

fn smoke_report_has_every_figure_for_floor_and_mcptool() {
    let report = mcptool_bench::run(&mcptool_bench::BenchConfig::smoke()).expect("smoke run");
    let json = report.to_json();
    check_client(&json, "floor");
    check_client(&json, "mcptool");
    for rival in [
        "reqwest_raw",
        "rmcp",
        "rmcp_pooled",
        "typescript_sdk",
        "python_sdk",
    ] {
        let measured = json.get(rival).is_some();
        let skipped = report.skipped.iter().any(|(name, _)| name == rival);
        assert!(
            measured || skipped,
            "{rival} neither measured nor reported skipped"
        );
        if measured {
            check_client(&json, rival);
        }
    }
    let memory = &json["mcptool"];
    let rss = memory["rss_per_idle_session_kib"]
        .as_object()
        .expect("mcptool memory figures");
    assert!(
        rss.get("100").is_some_and(positive),
        "RSS at 100 sessions: {rss:?}"
    );
    assert!(
        memory["fds_before"].as_u64().is_some_and(|n| n > 0),
        "fds_before: {memory}"
    );
    assert!(
        memory["fds_after"].as_u64().is_some(),
        "fds_after: {memory}"
    );
}

/// The one test here, under the name libtest would give it.
const NAME: &str = "smoke_report_has_every_figure_for_floor_and_mcptool";

/// Speaks enough of libtest's command line for `cargo test` and cargo-nextest: `--list`
/// (with `--ignored`: none here), a name filter, and the run itself.
fn main() {
    mcptool_bench::run_child_if_requested();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    if flag("--list") {
        if !flag("--ignored") {
            println!("{NAME}: test");
        }
        return;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let selected = filters.is_empty()
        || filters.iter().any(|f| {
            if flag("--exact") {
                *f == NAME
            } else {
                NAME.contains(f.as_str())
            }
        });
    if flag("--ignored") || !selected {
        println!("test result: ok. 0 passed; 0 failed; 1 filtered out");
        return;
    }
    smoke_report_has_every_figure_for_floor_and_mcptool();
    println!("test {NAME} ... ok");
    println!("test result: ok. 1 passed; 0 failed");
}
