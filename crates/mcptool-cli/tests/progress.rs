//! Progress notifications of a long call become plain lines when stderr is not a terminal.

mod support;

/// `mcptool --protocol 2025-11-25 ARGS`: the embedded demo server lists a tool with a
/// deliberately invalid `x-mcp-header`, which a 2026-07-28 client warns about on stderr, and
/// these tests count the lines there.
fn mcptool(args: &[&str]) -> support::Output {
    let mut all = vec!["--protocol", "2025-11-25"];
    all.extend_from_slice(args);
    support::mcptool(&all)
}

#[test]
fn progress_is_printed_as_plain_lines_when_piped() {
    let out = mcptool(&["call", "sleep", "ms=300", "steps=3"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "slept 300 ms\n");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "progress 1/3 step 1 of 3",
            "progress 2/3 step 2 of 3",
            "progress 3/3 step 3 of 3"
        ],
        "stderr: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains('\u{1b}'),
        "no terminal escapes when piped"
    );
}

#[test]
fn json_output_stays_clean_while_progress_goes_to_stderr() {
    let out = mcptool(&["call", "sleep", "ms=100", "steps=2", "--json"]);
    out.expect_code(0);
    assert_eq!(out.json()["content"][0]["text"], "slept 100 ms");
    assert_eq!(out.stderr.lines().count(), 2, "{}", out.stderr);
}
