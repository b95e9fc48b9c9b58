//! `mcptool serve`: run the strict reference server until Ctrl-C.

use std::error::Error;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};

use mcptool_server::{AuthConfig, Era, Faults, ResponseMode, Server, ServerConfig};

/// Options of `mcptool serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (loopback unless --allow-non-loopback).
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// The endpoint path.
    #[arg(long, default_value = "/mcp")]
    path: String,
    /// Answer requests with application/json instead of text/event-stream.
    #[arg(long)]
    json_responses: bool,
    /// Refuse the standalone GET stream (405).
    #[arg(long)]
    no_get_stream: bool,
    /// Refuse DELETE (405).
    #[arg(long)]
    no_delete: bool,
    /// Serve GET /stats with what the server saw.
    #[arg(long)]
    stats: bool,
    /// Allow listening on a non-loopback address.
    #[arg(long)]
    allow_non_loopback: bool,
    /// Honour the `mcptool-fault` request header (cut-after=N, close, status=500, delay-ms=N, expire).
    #[arg(long)]
    faults: bool,
    /// The protocol eras to speak on the endpoint: both (sessions and 2026-07-28), sessions
    /// (2025-03-26 .. 2025-11-25 only) or stateless (2026-07-28 only).
    #[arg(long, value_enum, default_value_t = EraArg::Both)]
    era: EraArg,
    /// Require OAuth 2.1 bearer tokens (JWTs) of this issuer on the endpoint and serve the
    /// protected resource metadata. The issuer's metadata and JWKS are fetched at start (plain
    /// http only to loopback).
    #[arg(long, value_name = "ISSUER")]
    auth: Option<String>,
    /// The resource identifier tokens must name in `aud` (default: the endpoint's URL).
    #[arg(long, value_name = "URL", requires = "auth")]
    auth_resource: Option<String>,
    /// The scopes_supported of the protected resource metadata, space-separated
    /// (default "mcp:tools mcp:admin").
    #[arg(long, value_name = "SCOPES", requires = "auth")]
    auth_scopes: Option<String>,
    /// A scope every request needs (repeatable).
    #[arg(long, value_name = "SCOPE", requires = "auth")]
    auth_required_scope: Vec<String>,
    /// A scope calling one tool needs, as NAME=SCOPE (repeatable).
    #[arg(long, value_name = "NAME=SCOPE", requires = "auth", value_parser = tool_scope)]
    auth_tool_scope: Vec<(String, String)>,
}

/// Parses `--auth-tool-scope NAME=SCOPE`.
fn tool_scope(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, scope)) if !name.is_empty() && !scope.is_empty() && !scope.contains(' ') => {
            Ok((name.to_owned(), scope.to_owned()))
        }
        _ => Err("expected NAME=SCOPE, one scope without spaces".to_owned()),
    }
}

/// The values of `--era`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum EraArg {
    Both,
    Sessions,
    Stateless,
}

impl From<EraArg> for Era {
    fn from(era: EraArg) -> Self {
        match era {
            EraArg::Both => Era::Both,
            EraArg::Sessions => Era::Sessions,
            EraArg::Stateless => Era::Stateless,
        }
    }
}

impl ServeArgs {
    fn config(&self) -> ServerConfig {
        let mode = if self.json_responses {
            ResponseMode::Json
        } else {
            ResponseMode::Sse
        };
        let config = ServerConfig::default()
            .bind(SocketAddr::new(self.host, self.port))
            .allow_non_loopback(self.allow_non_loopback)
            .path(self.path.clone())
            .response_mode(mode)
            .get_stream(!self.no_get_stream)
            .allow_delete(!self.no_delete)
            .stats_endpoint(self.stats)
            .era(self.era.into())
            .faults(Faults {
                enabled: self.faults,
                ..Faults::default()
            });
        match self.auth_config() {
            Some(auth) => config.auth(auth),
            None => config,
        }
    }

    fn auth_config(&self) -> Option<AuthConfig> {
        let mut auth = AuthConfig::new(self.auth.clone()?);
        if let Some(resource) = &self.auth_resource {
            auth = auth.resource(resource.clone());
        }
        if let Some(scopes) = &self.auth_scopes {
            auth = auth.scopes_supported(scopes.split_ascii_whitespace());
        }
        for scope in &self.auth_required_scope {
            auth = auth.required_scope(scope.clone());
        }
        for (name, scope) in &self.auth_tool_scope {
            auth = auth.tool_scope(name.clone(), scope.clone());
        }
        Some(auth)
    }
}

/// Serves until Ctrl-C, then shuts down gracefully.
pub(crate) fn run(args: &ServeArgs) -> Result<(), Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = Server::start(args.config()).await.map_err(|e| {
            if e.is_auth() {
                e.describe().into()
            } else {
                Box::<dyn Error>::from(e)
            }
        })?;
        // Whoever started us may stop reading stdout once it has the URL: a closed pipe must
        // not take the server down (println! would panic on it).
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "mcptool-server listening on {}", server.url());
        if args.stats {
            let _ = writeln!(out, "stats at http://{}/stats", server.addr());
        }
        if let Some(issuer) = &args.auth {
            let _ = writeln!(out, "bearer tokens of {issuer} required");
        }
        let _ = out.flush();
        drop(out);
        tokio::signal::ctrl_c().await?;
        let _ = writeln!(std::io::stderr(), "shutting down");
        server.shutdown().await;
        Ok(())
    })
}
