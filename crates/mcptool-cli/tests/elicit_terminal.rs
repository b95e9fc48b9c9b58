//! Elicitation answered by a person: `mcptool` runs under a real pseudo-terminal (stdin and
//! stderr on it, stdout to a file), the test types the answers, and the tool's result shows
//! what the server got. Each test runs in both eras: the session era's server requests and
//! 2026-07-28's `input_required` rounds.

#![cfg(unix)]

mod support;

use std::process::Command;

use rexpect::process::WaitStatus;
use rexpect::session::PtySession;
use support::{Served, temp_dir};

/// The served mode and the pinned protocol of each era.
const ERAS: [(&str, &str); 2] = [("sessions", "2025-11-25"), ("stateless", "2026-07-28")];

/// `mcptool --url URL --protocol P ARGS` on a terminal, stdout going to `stdout`.
fn on_terminal(url: &str, protocol: &str, args: &[&str], stdout: &std::path::Path) -> PtySession {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"exec "$0" "$@" > "$MCPTOOL_TEST_STDOUT""#)
        .arg(env!("CARGO_BIN_EXE_mcptool"))
        .args(["--url", url, "--protocol", protocol])
        .args(args)
        .env("MCPTOOL_TEST_STDOUT", stdout)
        // Never the user's own token store.
        .env("MCPTOOL_TOKEN_STORE", stdout.with_extension("tokens.json"))
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    rexpect::session::spawn_command(command, Some(30_000)).expect("spawn under a pty")
}

/// Waits for the end and returns the exit code and what went to stdout.
fn finish(mut session: PtySession, stdout: &std::path::Path) -> (i32, String) {
    session.exp_eof().expect("the command ends");
    let code = match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("mcptool did not exit normally: {other:?}"),
    };
    (code, std::fs::read_to_string(stdout).unwrap_or_default())
}

#[test]
fn a_person_fills_in_the_two_rounds_of_the_survey() {
    for (era, protocol) in ERAS {
        let served = Served::start(&["--era", era, "--stats"]);
        let dir = temp_dir("survey");
        let stdout = dir.path().join("stdout");
        let mut p = on_terminal(&served.url, protocol, &["call", "survey"], &stdout);
        p.exp_string("the server asks: What is your name?")
            .expect("first question");
        p.exp_string("Answer (required) [Ada]: ")
            .expect("its default is shown");
        p.send_line("Grace").expect("type");
        p.exp_string("Which colour do you like, Grace?")
            .expect("the second round");
        p.exp_string("[teal]: ").expect("its default");
        p.send_line("").expect("keep the default");
        let (code, out) = finish(p, &stdout);
        assert_eq!(code, 0, "{era}: {out}");
        assert!(out.starts_with("Grace likes teal\n"), "{era}: {out}");
        assert!(
            !out.contains("the server asks"),
            "prompts stay off stdout: {out}"
        );
        let stats = served.stats();
        if era == "stateless" {
            assert!(stats["mrtr_rounds"].as_u64() >= Some(2), "{stats}");
        } else {
            assert_eq!(stats["client_responses"], 2, "{stats}");
        }
    }
}

#[test]
fn a_required_answer_left_empty_is_asked_again() {
    for (era, protocol) in ERAS {
        let served = Served::start(&["--era", era]);
        let dir = temp_dir("ask");
        let stdout = dir.path().join("stdout");
        let args = ["call", "ask", "question=Who wrote the first program?"];
        let mut p = on_terminal(&served.url, protocol, &args, &stdout);
        p.exp_string("Who wrote the first program?")
            .expect("the question");
        p.exp_string("Answer (required): ").expect("no default");
        p.send_line("   ").expect("type blanks");
        p.exp_string("an answer is required").expect("refused");
        p.exp_string("Answer (required): ").expect("asked again");
        p.send_line("Ada Lovelace").expect("type");
        let (code, out) = finish(p, &stdout);
        assert_eq!(code, 0, "{era}: {out}");
        assert_eq!(out.trim(), "Ada Lovelace", "{era}");
    }
}

#[test]
fn decline_and_end_of_input_reach_the_server_as_decline_and_cancel() {
    for (era, protocol) in ERAS {
        let served = Served::start(&["--era", era]);
        for (typed, action) in [(Some(":decline"), "decline"), (None, "cancel")] {
            let dir = temp_dir("refuse");
            let stdout = dir.path().join("stdout");
            let args = ["call", "ask", "question=Your name?"];
            let mut p = on_terminal(&served.url, protocol, &args, &stdout);
            p.exp_string("Answer (required): ").expect("the prompt");
            match typed {
                Some(line) => p.send_line(line).expect("type"),
                None => p.send_control('d').map(|()| 0).expect("Ctrl-D"),
            };
            let (code, out) = finish(p, &stdout);
            assert_eq!(code, 0, "{era} {action}: {out}");
            assert_eq!(out.trim(), format!("the user chose {action:?}"), "{era}");
        }
    }
}
