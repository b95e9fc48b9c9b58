//! Exit codes and the one error type of the command line.
//!
//! Every failure ends as one line on stderr: what went wrong and what to try. With `-v` the
//! causes follow, one per line.

use std::fmt;
use std::process::ExitCode;

/// The process exit codes, as documented in `mcptool --help`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Everything worked.
    Ok = 0,
    /// The tool answered with `isError: true`.
    ToolError = 1,
    /// The command line was wrong (bad flag, argument, header, unknown tool...).
    Usage = 2,
    /// The server could not be reached, or broke the protocol.
    Connection = 3,
    /// `check` found that isolation does not hold.
    CheckFailed = 4,
    /// OAuth authorization is needed or failed (no login, refused consent, token endpoint
    /// errors, an unusable token store...).
    Authorization = 5,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

type Source = Box<dyn std::error::Error + Send + Sync>;

/// A failure of one command: the exit code, the problem, and what to try.
#[derive(Debug)]
pub(crate) struct CliError {
    exit: Exit,
    problem: String,
    hint: Option<String>,
    source: Option<Source>,
}

impl CliError {
    /// A usage error (exit 2).
    pub(crate) fn usage(problem: impl Into<String>) -> CliError {
        CliError::new(Exit::Usage, problem)
    }

    /// A connection or protocol failure (exit 3).
    pub(crate) fn connection(problem: impl Into<String>) -> CliError {
        CliError::new(Exit::Connection, problem)
    }

    /// A failure with an explicit exit code.
    pub(crate) fn new(exit: Exit, problem: impl Into<String>) -> CliError {
        CliError {
            exit,
            problem: problem.into(),
            hint: None,
            source: None,
        }
    }

    /// Adds what the user could try.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// Keeps the underlying error, printed with `-v`.
    pub(crate) fn source(mut self, source: impl Into<Source>) -> CliError {
        self.source = Some(source.into());
        self
    }

    /// The exit code of this failure.
    pub(crate) fn exit(&self) -> Exit {
        self.exit
    }

    /// Classifies a client error met while talking to `url`, doing `doing`.
    pub(crate) fn from_mcp(err: mcptool::Error, doing: &str, url: &str) -> CliError {
        use mcptool::ErrorKind;
        if let Some(missing) = missing_capabilities(&err) {
            let problem = format!(
                "{doing}: the server needs the client capability {}, which mcptool did not declare",
                missing.join(" and ")
            );
            return CliError::new(Exit::Connection, problem)
                .hint(capability_hint(&missing))
                .source(err);
        }
        let problem = if matches!(err.kind(), ErrorKind::Connect) {
            format!("cannot connect to {url}")
        } else {
            format!("{doing}: {err}")
        };
        let (exit, hint) = classify(&err, url);
        CliError::new(exit, problem).hint(hint).source(err)
    }

    /// Prints the error to stderr: one line, then the causes when `verbose`.
    pub(crate) fn report(&self, verbose: bool) {
        eprintln!("mcptool: {self}");
        if verbose {
            let mut cause = self.source.as_deref().map(|s| s as &dyn std::error::Error);
            while let Some(err) = cause {
                eprintln!("  caused by: {err}");
                cause = err.source();
            }
        }
    }
}

/// The exit code of a client error, and what the user could try.
fn classify(err: &mcptool::Error, url: &str) -> (Exit, String) {
    use mcptool::ErrorKind;
    match err.kind() {
        ErrorKind::Config => (
            Exit::Usage,
            "check --url, --header and --protocol".to_owned(),
        ),
        ErrorKind::Connect => (
            Exit::Connection,
            "is the server running? start one with `mcptool serve`, or omit --url to use the embedded server".to_owned(),
        ),
        ErrorKind::Tls => (
            Exit::Connection,
            "is the server's certificate trusted on this machine (the platform's store, or a PEM file named by SSL_CERT_FILE)?".to_owned(),
        ),
        ErrorKind::Timeout => (
            Exit::Connection,
            "the server is slow or not answering; raise --timeout".to_owned(),
        ),
        ErrorKind::Rpc if is_bad_params(err) => (
            Exit::Usage,
            "check the name and arguments (`mcptool tools`, `mcptool prompts`)".to_owned(),
        ),
        ErrorKind::Rpc => (
            Exit::Connection,
            "the server refused the request; run with -v for details".to_owned(),
        ),
        ErrorKind::Authorization => (
            Exit::Authorization,
            auth_hint(err.auth_failure(), url),
        ),
        ErrorKind::HttpStatus if matches!(err.status(), Some(401 | 403)) => (
            Exit::Connection,
            format!(
                "the server wants credentials: `mcptool login --url {url}`, --bearer TOKEN \
                 or -H 'Name: value'"
            ),
        ),
        ErrorKind::HttpStatus | ErrorKind::Protocol => (
            Exit::Connection,
            format!("is {url} an MCP Streamable HTTP endpoint? (the path is often /mcp)"),
        ),
        _ => (
            Exit::Connection,
            "run with -v for details".to_owned(),
        ),
    }
}

/// What an authorization failure means, and what to do about it.
fn auth_hint(failure: Option<mcptool::AuthFailure>, url: &str) -> String {
    use mcptool::AuthFailure;
    match failure {
        Some(AuthFailure::Required) => format!(
            "log in first: `mcptool login --url {url}` (OAuth is off with --bearer, \
             -H 'Authorization: ...' and --no-auth)"
        ),
        Some(AuthFailure::Registration) => "the authorization server offers mcptool no way \
             to register: pass --client-id ID (with --client-secret or --private-key for a \
             confidential client) or --client-metadata-url URL"
            .to_owned(),
        Some(AuthFailure::Denied) => format!(
            "the login was refused or not completed in the browser; try again with \
             `mcptool login --url {url}`"
        ),
        Some(AuthFailure::Redirect) => "the answer that came back from the browser did not \
             belong to this login (state or issuer mismatch) and was refused; log in again"
            .to_owned(),
        Some(AuthFailure::Token) => format!(
            "the authorization server's token endpoint refused or answered nonsense: check \
             --client-id, --client-secret and --private-key, or log in again with \
             `mcptool login --url {url}`"
        ),
        Some(AuthFailure::Refused) => "the server refused every token mcptool could get: \
             the account may lack a scope it needs (try --scope), or the server does not \
             trust this authorization server"
            .to_owned(),
        Some(AuthFailure::Metadata) => "the OAuth metadata of the server or of its \
             authorization server is missing or inconsistent: they are misconfigured (-v \
             shows more)"
            .to_owned(),
        Some(AuthFailure::Store) => {
            "fix the token store as the message says, or use another with --token-store FILE"
                .to_owned()
        }
        _ => "run with -v for details".to_owned(),
    }
}

/// The capabilities a 2026-07-28 server said the request lacked (-32021), if that was the
/// refusal.
fn missing_capabilities(err: &mcptool::Error) -> Option<Vec<String>> {
    let rpc = err.rpc_error().filter(|rpc| rpc.code == -32021)?;
    let names: Vec<String> = rpc
        .data
        .as_ref()
        .and_then(|d| d.get("requiredCapabilities"))
        .and_then(|c| c.as_object())
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    Some(if names.is_empty() {
        vec!["(unnamed)".to_owned()]
    } else {
        names
    })
}

/// What the user can do about each missing capability.
fn capability_hint(missing: &[String]) -> String {
    let advice: Vec<&str> = missing
        .iter()
        .map(|name| match name.as_str() {
            "sampling" => "mcptool has no language model, so it cannot answer sampling",
            "elicitation" => "run on a terminal to answer the form, or pass --elicit accept-defaults|decline|cancel",
            "roots" => "offer roots with --root PATH",
            _ => "mcptool does not offer it",
        })
        .collect();
    advice.join("; ")
}

/// Invalid params (-32602) or method not found (-32601): the caller asked for something wrong.
fn is_bad_params(err: &mcptool::Error) -> bool {
    err.rpc_error()
        .is_some_and(|rpc| rpc.code == -32602 || rpc.code == -32601)
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// The result of a command: the exit code to end with, or a failure.
pub(crate) type CliResult = Result<Exit, CliError>;
