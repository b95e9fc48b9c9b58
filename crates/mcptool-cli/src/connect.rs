//! The flags every client command shares, and connecting with them: to `--url`, or to the
//! embedded strict server started in this process on 127.0.0.1 with a free port.

use std::time::Duration;

use mcptool::protocol::ProtocolVersion;
use mcptool::{Client, ClientBuilder, ProtocolEra};
use mcptool_server::{RunningServer, Server, ServerConfig};

use crate::answers::{self, Elicit, ElicitMode};
use crate::auth::{AuthFlags, Authorization};
use crate::era::Era;
use crate::exit::CliError;

/// Connection and output flags, accepted before or after the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Common {
    /// The MCP endpoint. Absent: start the embedded strict server on 127.0.0.1 (free port).
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) url: Option<String>,
    /// An extra request header, 'Name: value' (repeatable).
    #[arg(
        short = 'H',
        long = "header",
        global = true,
        value_name = "NAME: VALUE"
    )]
    pub(crate) headers: Vec<String>,
    /// Send `Authorization: Bearer TOKEN` (and no OAuth).
    #[arg(long, global = true, env = "MCPTOOL_BEARER", hide_env_values = true)]
    pub(crate) bearer: Option<String>,
    /// Time allowed for connecting and for each request: seconds, or with a unit (500ms, 5s, 2m).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s")]
    pub(crate) timeout: String,
    /// The protocol: auto (the default: probe with server/discover, fall back to initialize,
    /// then HTTP+SSE), 2026-07-28 (stateless), or a session-era version to offer, e.g.
    /// 2025-06-18.
    #[arg(long, global = true, value_name = "VERSION")]
    pub(crate) protocol: Option<String>,
    /// Print the MCP result object as JSON instead of text for people.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Answer the server's elicitation requests: accept-defaults (each field's default),
    /// decline or cancel. Without it, on a terminal, mcptool asks you with a form on stderr;
    /// elsewhere the client declares no elicitation capability.
    #[arg(long, global = true, value_enum, value_name = "MODE")]
    pub(crate) elicit: Option<ElicitMode>,
    /// A root to offer the server when it asks for roots (repeatable).
    #[arg(long = "root", global = true, value_name = "PATH")]
    pub(crate) roots: Vec<std::path::PathBuf>,
    /// More logging on stderr (-v debug, -vv trace; RUST_LOG overrides), the protocol era
    /// found, and error causes.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    #[command(flatten)]
    pub(crate) auth: AuthFlags,
}

/// The checked form of [`Common`]'s connection flags.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) url: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) elicit: Option<Elicit>,
    pub(crate) roots: Option<mcptool::Handler>,
    /// `-v`: say which era a connection found.
    pub(crate) verbose: bool,
    /// OAuth with the stored tokens: for `--url` only (the embedded server asks for none),
    /// and off with `--bearer`, an `Authorization` header or `--no-auth`.
    pub(crate) auth: Option<Authorization>,
}

/// What `--protocol` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `auto`: probe with `server/discover`, fall back to `initialize`.
    Auto,
    /// One version: 2026-07-28 speaks the stateless era, the others the session era.
    Version(ProtocolVersion),
}

impl Common {
    /// Checks the flags: headers, timeout and protocol version.
    pub(crate) fn settings(&self) -> Result<Settings, CliError> {
        let mut headers = self
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(token) = &self.bearer {
            headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
        }
        let own_authorization = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        let auth = match &self.url {
            Some(url) if !own_authorization && !self.auth.no_auth => {
                Some(Authorization::for_commands(&self.auth, url)?)
            }
            _ => None,
        };
        let protocol = match self.protocol.as_deref() {
            None => None,
            Some("auto") => Some(Protocol::Auto),
            Some(v) => Some(Protocol::Version(v.parse::<ProtocolVersion>().map_err(
                |_| {
                    let known: Vec<&str> =
                        ProtocolVersion::ALL.iter().map(|v| v.as_str()).collect();
                    CliError::usage(format!("unknown protocol version {v:?}"))
                        .hint(format!("use auto or one of {}", known.join(", ")))
                },
            )?)),
        };
        Ok(Settings {
            url: self.url.clone(),
            headers,
            timeout: parse_duration(&self.timeout)?,
            protocol,
            elicit: Elicit::choose(self.elicit),
            verbose: self.verbose > 0,
            auth,
            roots: if self.roots.is_empty() {
                None
            } else {
                Some(answers::roots(&self.roots)?)
            },
        })
    }
}

/// Parses `Name: value`.
pub(crate) fn parse_header(raw: &str) -> Result<(String, String), CliError> {
    let bad = || {
        CliError::usage(format!("malformed header {raw:?}: expected 'Name: value'"))
            .hint("e.g. -H 'X-Api-Key: secret'")
    };
    let (name, value) = raw.split_once(':').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Parses `1.5`, `500ms`, `5s` or `2m`.
pub(crate) fn parse_duration(raw: &str) -> Result<Duration, CliError> {
    let (number, scale) = if let Some(n) = raw.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = raw.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = raw.strip_suffix('m') {
        (n, 60.0)
    } else {
        (raw, 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n > 0.0)
        .map(|n| Duration::from_secs_f64(n * scale))
        .ok_or_else(|| {
            CliError::usage(format!("invalid duration {raw:?}"))
                .hint("write seconds or a number with ms, s or m, e.g. --timeout 10s")
        })
}

impl Settings {
    /// A client builder for `url` with these headers, timeouts and version.
    pub(crate) fn builder(&self, url: &str) -> ClientBuilder {
        let mut builder = Client::builder(url)
            .connect_timeout(self.timeout)
            .initialize_timeout(self.timeout)
            .request_timeout(self.timeout)
            .close_timeout(self.timeout.min(Duration::from_secs(5)));
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        match self.protocol {
            Some(Protocol::Auto) => builder = builder.protocol_era(ProtocolEra::Auto),
            Some(Protocol::Version(version)) => builder = builder.protocol_version(version),
            None => {}
        }
        if let Some(elicit) = self.elicit {
            builder = builder.on_elicitation(elicit.handler());
        }
        if let Some(roots) = &self.roots {
            builder = builder.on_roots(roots.clone());
        }
        if let Some(auth) = &self.auth {
            builder = builder.oauth(auth.oauth.clone());
        }
        builder
    }

    /// A command's error, with the hint to log in when it needed a login it could not run.
    pub(crate) fn explain(&self, err: CliError) -> CliError {
        match &self.auth {
            Some(auth) => auth.explain(err),
            None => err,
        }
    }
}

/// Where the commands send their requests: `--url`, or the embedded server.
#[derive(Debug)]
pub(crate) struct Target {
    /// The endpoint URL.
    pub(crate) url: String,
    embedded: Option<RunningServer>,
}

impl Target {
    /// Uses `--url`, or starts the embedded strict server.
    pub(crate) async fn resolve(settings: &Settings) -> Result<Target, CliError> {
        if let Some(url) = &settings.url {
            return Ok(Target {
                url: url.clone(),
                embedded: None,
            });
        }
        let server = Server::start(ServerConfig::default()).await.map_err(|e| {
            CliError::connection("cannot start the embedded server")
                .hint("pass --url to use another server")
                .source(e)
        })?;
        tracing::debug!(url = %server.url(), "embedded server started");
        Ok(Target {
            url: server.url(),
            embedded: Some(server),
        })
    }

    /// Stops the embedded server, if one was started.
    pub(crate) async fn finish(self) {
        if let Some(server) = self.embedded {
            server.shutdown().await;
        }
    }
}

/// One connected client and where it points; [`Session::finish`] closes both.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) target: Target,
}

impl Session {
    /// Resolves the target and connects (`initialize`, or `server/discover` in 2026-07-28).
    pub(crate) async fn open(settings: &Settings) -> Result<Session, CliError> {
        let target = Target::resolve(settings).await?;
        match settings.builder(&target.url).connect().await {
            Ok(client) => {
                if settings.verbose {
                    eprintln!("connected: {}", Era::of(&client).describe());
                }
                Ok(Session { client, target })
            }
            Err(err) => {
                let err = CliError::from_mcp(err, "cannot start an MCP session", &target.url);
                target.finish().await;
                Err(err)
            }
        }
    }

    /// The URL, for messages.
    pub(crate) fn url(&self) -> &str {
        &self.target.url
    }

    /// Classifies an error of a request made on this session.
    pub(crate) fn error(&self, err: mcptool::Error, doing: &str) -> CliError {
        CliError::from_mcp(err, doing, self.url())
    }

    /// Closes the client (session DELETE) and stops the embedded server.
    pub(crate) async fn finish(self) {
        if let Err(err) = self.client.close().await {
            tracing::warn!(%err, "closing the session failed");
        }
        self.target.finish().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_need_a_colon_and_a_name() {
        assert_eq!(
            parse_header("X-A:  b c ").expect("valid"),
            ("X-A".to_owned(), "b c".to_owned())
        );
        assert!(parse_header("X-A b").is_err());
        assert!(parse_header(": b").is_err());
        assert!(parse_header("X A: b").is_err());
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(
            parse_duration("500ms").ok(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_duration("2").ok(), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m").ok(), Some(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("0").is_err());
    }
}
