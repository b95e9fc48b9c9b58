//! Every client subcommand, for people and with `--json`, against the embedded server and
//! against a `mcptool serve` started by the test.

mod support;

use support::{Served, mcptool, temp_dir};

/// `--url URL` when given, nothing (the embedded server) otherwise.
fn run(url: Option<&str>, args: &[&str]) -> support::Output {
    let mut all: Vec<&str> = Vec::new();
    if let Some(url) = url {
        all.extend(["--url", url, "--timeout", "10s"]);
    }
    all.extend(args);
    mcptool(&all)
}

fn every_subcommand(url: Option<&str>, tag: &str) {
    let tools = run(url, &["tools"]);
    tools.expect_code(0);
    let header = tools.stdout.lines().next().expect("a header");
    assert!(
        header.starts_with("NAME") && header.contains("DESCRIPTION"),
        "{header}"
    );
    assert!(
        tools.stdout.lines().any(|l| l.starts_with("echo ")),
        "{}",
        tools.stdout
    );
    let tools = run(url, &["tools", "--json"]).expect_code(0).json();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for name in ["echo", "add", "whoami", "sleep"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }

    let echo = run(url, &["call", "echo", "message=hello world"]);
    echo.expect_code(0);
    assert_eq!(echo.stdout, "hello world\n");
    let echo = run(url, &["call", "echo", "message=42", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(
        echo["content"][0]["text"], "42",
        "a string property stays a string"
    );

    let add = run(url, &["call", "add", "a=2", "b=3.5", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(add["structuredContent"]["sum"], 5.5);
    assert_eq!(
        add["isError"],
        serde_json::Value::Null,
        "exactly what the server sent"
    );
    let add = run(url, &["call", "add", r#"{"a": 1, "b": 2}"#]);
    add.expect_code(0);
    assert!(
        add.stdout.starts_with("3\nstructured content:\n{"),
        "{}",
        add.stdout
    );

    let fail = run(url, &["call", "fail"]);
    fail.expect_code(1);
    assert!(fail.stdout.contains("this tool always fails"));
    assert!(fail.stderr.contains("reported an error"), "{}", fail.stderr);
    let fail = run(url, &["call", "fail", "--json"]).expect_code(1).json();
    assert_eq!(fail["isError"], true);

    let dir = temp_dir(tag);
    let image = run(
        url,
        &[
            "call",
            "image",
            "--save",
            dir.path().to_str().expect("utf-8"),
        ],
    );
    image.expect_code(0);
    assert!(
        image.stdout.starts_with("[image image/png, "),
        "{}",
        image.stdout
    );
    let saved = std::fs::read(dir.path().join("image-1.png")).expect("the image was saved");
    assert_eq!(&saved[..4], b"\x89PNG");
    let audio = run(url, &["call", "audio"]).expect_code(0).stdout.clone();
    assert!(
        audio.starts_with("[audio audio/wav, ") && audio.contains("--save"),
        "{audio}"
    );
    drop(dir);

    let prompts = run(url, &["prompts"]);
    prompts.expect_code(0);
    assert!(
        prompts
            .stdout
            .lines()
            .any(|l| l.starts_with("greeting ") && l.contains("name*")),
        "{}",
        prompts.stdout
    );
    let prompts = run(url, &["prompts", "--json"]).expect_code(0).json();
    assert_eq!(prompts["prompts"][0]["name"], "greeting");

    let prompt = run(url, &["prompt", "greeting", "name=Ada", "style=formal"]);
    prompt.expect_code(0);
    assert!(
        prompt
            .stdout
            .contains("[user]\nPlease greet Ada in a formal style."),
        "{}",
        prompt.stdout
    );
    let prompt = run(url, &["prompt", "summarize", "text=x", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(prompt["messages"][0]["role"], "user");

    let resources = run(url, &["resources"]);
    resources.expect_code(0);
    assert!(
        resources
            .stdout
            .lines()
            .next()
            .expect("header")
            .starts_with("URI")
    );
    assert!(
        resources.stdout.contains("demo://readme"),
        "{}",
        resources.stdout
    );
    let resources = run(url, &["resources", "--json"]).expect_code(0).json();
    assert!(
        !resources["resources"]
            .as_array()
            .expect("resources")
            .is_empty()
    );

    let read = run(url, &["read", "demo://readme"]);
    read.expect_code(0);
    assert!(
        read.stdout.starts_with("--- demo://readme"),
        "{}",
        read.stdout
    );
    let read = run(url, &["read", "demo://readme", "--json"])
        .expect_code(0)
        .json();
    assert_eq!(read["contents"][0]["uri"], "demo://readme");

    let check = run(url, &["check", "--runs", "2", "--concurrency", "2"]);
    check.expect_code(0);
    assert!(check.stdout.contains("isolation holds"), "{}", check.stdout);
}

#[test]
fn every_subcommand_works_on_the_embedded_server() {
    every_subcommand(None, "embedded");
}

#[test]
fn every_subcommand_works_against_mcptool_serve() {
    let served = Served::start(&["--era", "sessions", "--stats"]);
    every_subcommand(Some(&served.url), "served");
    let stats = served.stats();
    let opened = stats["sessions_opened"].as_u64().expect("sessions_opened");
    assert!(opened >= 20, "each command opened its own session: {stats}");
    assert_eq!(
        stats["sessions_live"], 0,
        "every command closed its session: {stats}"
    );
    assert_eq!(
        stats["sessions_deleted"], opened,
        "every session was DELETEd: {stats}"
    );
}

#[test]
fn every_subcommand_works_against_a_stateless_server() {
    let served = Served::start(&["--era", "stateless", "--stats"]);
    every_subcommand(Some(&served.url), "stateless");
    let stats = served.stats();
    assert_eq!(stats["sessions_opened"], 0, "{stats}");
    assert!(
        stats["discover_calls"].as_u64() >= Some(20),
        "each command found the era itself: {stats}"
    );
    assert_eq!(stats["listen_streams_live"], 0, "{stats}");
}
