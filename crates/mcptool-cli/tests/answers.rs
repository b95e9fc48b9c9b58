//! `--elicit` and `--root`: how the CLI answers what a server asks, in both protocol eras, as
//! the tool's result shows it.

mod support;

use support::{mcptool, temp_dir};

/// Runs `mcptool` against the embedded server in the session era, then in 2026-07-28.
fn in_both_eras(args: &[&str]) -> [support::Output; 2] {
    let with = |protocol: &str| {
        let mut all = vec!["--protocol", protocol];
        all.extend_from_slice(args);
        mcptool(&all)
    };
    [with("2025-11-25"), with("2026-07-28")]
}

#[test]
fn accept_defaults_answers_a_form_with_its_defaults() {
    for out in in_both_eras(&["--elicit", "accept-defaults", "call", "survey"]) {
        out.expect_code(0);
        assert!(out.stdout.starts_with("Ada likes teal\n"), "{}", out.stdout);
    }
}

#[test]
fn accept_defaults_declines_a_required_field_without_a_default_and_says_why() {
    for out in in_both_eras(&[
        "--elicit",
        "accept-defaults",
        "call",
        "ask",
        "question=Name?",
    ]) {
        out.expect_code(0);
        assert_eq!(out.stdout.trim(), "the user chose \"decline\"");
        assert!(
            out.stderr.contains("\"answer\" has no default"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn decline_and_cancel_reach_the_server() {
    for (mode, action) in [("decline", "decline"), ("cancel", "cancel")] {
        for out in in_both_eras(&["--elicit", mode, "call", "ask", "question=Name?"]) {
            out.expect_code(0);
            assert_eq!(out.stdout.trim(), format!("the user chose {action:?}"));
        }
    }
}

#[test]
fn without_elicit_the_missing_capability_is_reported() {
    let [session, stateless] = in_both_eras(&["call", "ask", "question=Name?"]);
    assert_ne!(session.code, 0, "{}", session.stdout);
    assert_ne!(stateless.code, 0, "{}", stateless.stdout);
    assert!(
        stateless.stderr.contains("elicitation"),
        "{}",
        stateless.stderr
    );
}

#[test]
fn roots_are_offered_as_file_uris() {
    let dir = temp_dir("roots");
    let path = dir.path().to_str().expect("utf-8 path").to_owned();
    for out in in_both_eras(&["--root", &path, "call", "roots"]) {
        out.expect_code(0);
        assert!(out.stdout.contains("file:///"), "{}", out.stdout);
        let name = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        assert!(out.stdout.contains(name), "{}", out.stdout);
    }
    let missing = mcptool(&["--root", "/no/such/dir/for/mcptool", "call", "roots"]);
    missing.expect_code(2);
}

#[test]
fn a_refused_capability_says_why_mcptool_cannot_give_it() {
    let sample = mcptool(&["--protocol", "2026-07-28", "call", "sample", "prompt=hi"]);
    sample.expect_code(3);
    assert!(
        sample
            .stderr
            .contains("needs the client capability sampling")
            && sample.stderr.contains("no language model"),
        "{}",
        sample.stderr
    );
    let ask = mcptool(&["--protocol", "2026-07-28", "call", "ask", "question=Name?"]);
    ask.expect_code(3);
    assert!(ask.stderr.contains("--elicit"), "{}", ask.stderr);
}
