//! `mcptool login` and `logout` against `mcptool serve --auth ISSUER`, with a real
//! authorization server (oidc-provider, `peers/auth/oidc.mjs`) and a browser stand-in
//! (`peers/auth/browser.sh`): the login kept in a private store file, then used, refreshed and
//! forgotten by the other commands. Every test has a token store of its own in a temp dir.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::oidc::{AuthServer, browser_sh};
use support::{Output, Served, TempDir, mcptool_with_env, temp_dir};

/// The exit code of an authorization failure.
const AUTHORIZATION: i32 = 5;

/// An authorization server, the MCP server it protects, and a directory of the test's own.
struct Setup {
    auth: AuthServer,
    served: Served,
    dir: TempDir,
}

impl Setup {
    /// Starts both servers (`oidc` are the authorization server's flags); `None` when the
    /// authorization server is not installed.
    fn start(name: &str, oidc: &[&str]) -> Option<Setup> {
        let auth = AuthServer::start(oidc)?;
        let served = Served::start(&["--auth", &auth.issuer]);
        let dir = temp_dir(name);
        std::fs::write(
            dir.path().join("failing-browser.sh"),
            format!(
                "#!/bin/sh\necho \"$@\" > '{}'\nexit 1\n",
                dir.path().join("browser-ran").display()
            ),
        )
        .expect("write the failing browser");
        set_mode(&dir.path().join("failing-browser.sh"), 0o755);
        Some(Setup { auth, served, dir })
    }

    fn url(&self) -> &str {
        &self.served.url
    }

    /// The token store, two directories down so that the test sees them created.
    fn store(&self) -> PathBuf {
        self.dir.path().join("config/mcptool/tokens.json")
    }

    /// A `BROWSER` that fails and leaves a mark: a command that needs no browser never runs it.
    fn failing_browser(&self) -> String {
        self.dir
            .path()
            .join("failing-browser.sh")
            .display()
            .to_string()
    }

    fn assert_no_browser_ran(&self) {
        assert!(
            !self.dir.path().join("browser-ran").exists(),
            "the browser was started"
        );
    }

    /// `mcptool --url URL --token-store STORE ARGS` with `BROWSER=browser` (no terminal).
    fn run(&self, browser: &str, args: &[&str]) -> Output {
        let store = self.store().display().to_string();
        let mut all = vec![
            "--url",
            self.url(),
            "--token-store",
            &store,
            "--timeout",
            "20s",
        ];
        all.extend(args);
        mcptool_with_env(&all, &[("BROWSER", browser)])
    }

    /// `mcptool login` through the consent page.
    fn login(&self) -> Output {
        let out = self.run(&browser_sh(), &["login"]);
        out.expect_code(0);
        out
    }

    /// The store file, parsed.
    fn file(&self) -> Value {
        let text = std::fs::read_to_string(self.store()).expect("the token store exists");
        serde_json::from_str(&text).expect("the token store is JSON")
    }

    /// The one stored entry's field, as a string.
    fn entry(&self, field: &str) -> String {
        let file = self.file();
        let tokens = file["tokens"].as_array().expect("tokens");
        assert_eq!(tokens.len(), 1, "one entry: {tokens:?}");
        tokens[0][field].as_str().unwrap_or_default().to_owned()
    }
}

fn set_mode(path: &std::path::Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn assert_secret_free(out: &Output, secrets: &[String]) {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        assert!(
            !out.stdout.contains(secret.as_str()) && !out.stderr.contains(secret.as_str()),
            "a token was printed:\nstdout:\n{}\nstderr:\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn login_keeps_one_private_entry_and_prints_no_token() {
    let Some(s) = Setup::start("login", &[]) else {
        return;
    };
    let out = s.login();
    assert!(
        out.stdout.contains(&format!("logged in to {}", s.url())),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&s.auth.issuer), "{}", out.stdout);
    assert!(out.stdout.contains("mcp:tools"), "{}", out.stdout);
    #[cfg(unix)]
    {
        assert_eq!(mode(&s.store()), 0o600);
        assert_eq!(mode(s.store().parent().expect("dir")), 0o700);
    }
    assert_eq!(s.entry("resource"), s.url());
    assert_eq!(s.entry("issuer"), s.auth.issuer);
    let secrets = [s.entry("access_token"), s.entry("refresh_token")];
    assert!(!secrets[0].is_empty() && !secrets[1].is_empty());
    assert_secret_free(&out, &secrets);
    assert_eq!(s.auth.stats()["consents"], 1);
}

#[test]
fn commands_after_login_use_the_stored_token_without_a_browser() {
    let Some(s) = Setup::start("reuse", &[]) else {
        return;
    };
    s.login();
    let authorizations = s.auth.stats()["authorize_requests"].clone();
    let tools = s.run(&s.failing_browser(), &["tools"]);
    tools.expect_code(0);
    assert!(
        tools.stdout.lines().any(|l| l.starts_with("echo ")),
        "{}",
        tools.stdout
    );
    let call = s.run(
        &s.failing_browser(),
        &["--json", "call", "echo", "message=hi"],
    );
    assert_eq!(call.expect_code(0).json()["content"][0]["text"], "hi");
    s.assert_no_browser_ran();
    assert_eq!(s.auth.stats()["authorize_requests"], authorizations);
    assert_secret_free(&tools, &[s.entry("access_token")]);
}

#[test]
fn check_uses_the_stored_login_for_its_clients_and_raw_probes() {
    let Some(s) = Setup::start("check", &[]) else {
        return;
    };
    s.login();
    let check = s.run(
        &s.failing_browser(),
        &["check", "--runs", "2", "--concurrency", "2"],
    );
    check.expect_code(0);
    assert!(check.stdout.contains("isolation holds"), "{}", check.stdout);
    s.assert_no_browser_ran();
    assert_eq!(s.auth.stats()["consents"], 1, "no new login");
}

#[test]
fn an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_kept() {
    let Some(s) = Setup::start("refresh", &["--access-ttl", "2"]) else {
        return;
    };
    s.login();
    let (refresh_before, access_before) = (s.entry("refresh_token"), s.entry("access_token"));
    let refreshes_before = s.auth.stats()["refresh_requests"].as_u64().expect("count");
    std::thread::sleep(std::time::Duration::from_secs(3));

    s.run(&s.failing_browser(), &["tools"]).expect_code(0);
    s.assert_no_browser_ran();
    assert_ne!(
        s.entry("refresh_token"),
        refresh_before,
        "the rotated token is kept"
    );
    assert_ne!(s.entry("access_token"), access_before);
    let refreshes = s.auth.stats()["refresh_requests"].as_u64().expect("count");
    assert!(refreshes > refreshes_before, "{refreshes} refreshes");
    assert_eq!(s.auth.stats()["consents"], 1, "no new login");
}

#[test]
fn logout_forgets_the_login_and_the_next_command_asks_for_one() {
    let Some(s) = Setup::start("logout", &[]) else {
        return;
    };
    s.login();
    let out = s.run(&s.failing_browser(), &["logout"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains(&format!("logged out of {}", s.url())),
        "{}",
        out.stdout
    );
    assert_eq!(s.file()["tokens"], serde_json::json!([]));

    let tools = s.run(&s.failing_browser(), &["tools"]);
    tools.expect_code(AUTHORIZATION);
    assert!(
        tools
            .stderr
            .contains(&format!("mcptool login --url {}", s.url())),
        "{}",
        tools.stderr
    );
    s.assert_no_browser_ran();
    let again = s.run(&s.failing_browser(), &["logout"]);
    assert!(
        again.expect_code(0).stdout.contains("not logged in"),
        "{}",
        again.stdout
    );
}

#[test]
fn client_credentials_log_in_as_a_machine_without_a_browser() {
    let Some(s) = Setup::start("machine", &[]) else {
        return;
    };
    let machine = [
        "--client-credentials",
        "--client-id",
        "machine-secret",
        "--client-secret",
        "machine-secret-value",
    ];
    let login = s.run(&s.failing_browser(), &[&machine[..], &["login"]].concat());
    login.expect_code(0);
    assert!(login.stdout.contains("machine-secret"), "{}", login.stdout);
    assert_eq!(s.entry("client_id"), "machine-secret");
    assert_secret_free(
        &login,
        &["machine-secret-value".to_owned(), s.entry("access_token")],
    );
    let call = s.run(
        &s.failing_browser(),
        &[&machine[..], &["--json", "call", "echo", "message=hi"]].concat(),
    );
    assert_eq!(call.expect_code(0).json()["content"][0]["text"], "hi");
    s.assert_no_browser_ran();
    let stats = s.auth.stats();
    assert_eq!(stats["authorize_requests"], 0);
    assert!(stats["token_requests"]["client_credentials"].as_u64() >= Some(1));
}

#[test]
fn a_corrupt_store_is_refused_with_the_way_out() {
    let Some(s) = Setup::start("corrupt", &[]) else {
        return;
    };
    std::fs::create_dir_all(s.store().parent().expect("dir")).expect("mkdir");
    let corrupt = "{ \"version\": 1, \"tokens\": [ {\"access_token\": \"tok-";
    std::fs::write(s.store(), corrupt).expect("write");
    set_mode(&s.store(), 0o600);

    let tools = s.run(&s.failing_browser(), &["tools"]);
    tools.expect_code(AUTHORIZATION);
    let path = s.store().display().to_string();
    assert!(tools.stderr.contains(&path), "{}", tools.stderr);
    assert!(
        tools.stderr.contains("mcptool logout --all"),
        "{}",
        tools.stderr
    );
    assert!(!tools.stderr.contains("tok-"), "{}", tools.stderr);
    assert_eq!(std::fs::read_to_string(s.store()).expect("kept"), corrupt);

    let clear = s.run(&s.failing_browser(), &["logout", "--all"]);
    assert!(
        clear.expect_code(0).stdout.contains("removed"),
        "{}",
        clear.stdout
    );
    assert!(!s.store().exists());
}

#[cfg(unix)]
#[test]
fn a_store_others_may_read_is_refused_with_the_chmod_to_run() {
    let Some(s) = Setup::start("open-mode", &[]) else {
        return;
    };
    s.login();
    set_mode(&s.store(), 0o644);
    let before = std::fs::read(s.store()).expect("read");
    let tools = s.run(&s.failing_browser(), &["tools"]);
    tools.expect_code(AUTHORIZATION);
    let chmod = format!("chmod 600 {}", s.store().display());
    assert!(tools.stderr.contains(&chmod), "{}", tools.stderr);
    set_mode(&s.store(), 0o600);
    assert_secret_free(&tools, &[s.entry("access_token"), s.entry("refresh_token")]);
    assert_eq!(
        std::fs::read(s.store()).expect("read"),
        before,
        "left alone"
    );
    s.assert_no_browser_ran();
}

#[cfg(unix)]
#[test]
fn on_a_terminal_a_command_without_a_login_logs_in_in_the_browser() {
    use rexpect::process::WaitStatus;
    let Some(s) = Setup::start("terminal", &[]) else {
        return;
    };
    // stdin and stderr on a pseudo-terminal, stdout to a file.
    let stdout = s.dir.path().join("stdout");
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(r#"exec "$0" "$@" > "$MCPTOOL_TEST_STDOUT""#)
        .arg(env!("CARGO_BIN_EXE_mcptool"))
        .arg("--url")
        .arg(s.url())
        .arg("--token-store")
        .arg(s.store())
        .arg("tools")
        .env("MCPTOOL_TEST_STDOUT", &stdout)
        .env("BROWSER", browser_sh())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("MCPTOOL_BEARER")
        .env_remove("MCPTOOL_CLIENT_SECRET");
    let mut pty = rexpect::session::spawn_command(command, Some(60_000)).expect("spawn on a pty");
    pty.exp_string("Opening the authorization page")
        .expect("the browser flow starts");
    pty.exp_eof().expect("the command ends");
    let code = match pty.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("mcptool did not exit normally: {other:?}"),
    };
    let listed = std::fs::read_to_string(&stdout).unwrap_or_default();
    assert_eq!(code, 0, "stdout:\n{listed}");
    assert!(listed.lines().any(|l| l.starts_with("echo ")), "{listed}");
    assert_eq!(s.entry("resource"), s.url());
    assert_eq!(s.auth.stats()["consents"], 1);
}
