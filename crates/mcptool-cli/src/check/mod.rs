//! `mcptool check`: does this server keep the sessions of an agent's tool isolated?
//!
//! It finds the server's protocol era (automatically, or as `--protocol` pins it), runs N
//! sequential and C concurrent tool lifecycles (connect, call, close) in that era, probes the
//! server with raw requests, and reports one verdict per check; a check that does not apply to
//! the era is skipped with the reason. Exit 0 only when no check failed. Steps: [`discover`]
//! (the era and the tools to call), [`session`] and [`stateless`] (each era's checks),
//! [`live`] and [`headers`] (their raw probes), [`lifecycle`] (what a client sees), [`probe`]
//! (raw HTTP), [`sockets`] (our own connections), [`report`] (printing).

mod discover;
mod headers;
mod lifecycle;
mod live;
mod probe;
mod report;
mod session;
mod sockets;
mod stateless;

use std::net::SocketAddr;

use self::discover::Discovery;
use self::lifecycle::{Call, Lifecycle};
use self::report::Report;
use crate::connect::{Protocol, Settings, Target};
use crate::era::Era;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::print_json;
use mcptool::protocol::ProtocolVersion;

/// Options of `mcptool check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Sequential lifecycles (connect, call, close), each checked for leftover sockets.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
    /// Lifecycles run at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(0..=256))]
    concurrency: u16,
}

/// Runs every check against `--url` or the embedded server: in the era `--protocol` pins, or
/// else (automatic, the default) in every era the server serves (the era automatic detection finds, and the session era
/// too when a 2026-07-28 server also serves it).
pub(crate) async fn run(settings: &Settings, args: &CheckArgs, json: bool) -> CliResult {
    let target = Target::resolve(settings).await?;
    let outcome = check_every_era(settings, &target.url, args).await;
    target.finish().await;
    let reports = outcome?;
    if json {
        match reports.as_slice() {
            [one] => print_json(one)?,
            all => print_json(&all)?,
        }
    } else {
        let rendered: Vec<String> = reports.iter().map(Report::render).collect();
        print!("{}", rendered.join("\n"));
    }
    Ok(if reports.iter().all(|r| r.passed) {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}

async fn check_every_era(
    settings: &Settings,
    url: &str,
    args: &CheckArgs,
) -> Result<Vec<Report>, CliError> {
    let first = check(settings, url, args).await?;
    let mut reports = vec![first];
    let automatic = matches!(settings.protocol, None | Some(Protocol::Auto));
    if automatic && reports[0].era.starts_with("2026-07-28") {
        let mut session = settings.clone();
        session.protocol = Some(Protocol::Version(ProtocolVersion::LATEST));
        // A dual-era server: its session era is checked too. A stateless-only one refuses
        // `initialize`, and there is nothing more to check.
        if discover::run(&session, url).await.is_ok() {
            reports.push(check(&session, url, args).await?);
        }
    }
    Ok(reports)
}

/// What every era's checks start from.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// The user's settings with the era found pinned, so lifecycles do not probe again.
    pub(crate) settings: Settings,
    pub(crate) url: &'a str,
    pub(crate) server: Vec<SocketAddr>,
    pub(crate) runs: u16,
    pub(crate) concurrency: u16,
    pub(crate) discovery: Discovery,
}

async fn check(settings: &Settings, url: &str, args: &CheckArgs) -> Result<Report, CliError> {
    let server = server_addrs(url).await?;
    let discovery = discover::run(settings, url).await?;
    tracing::debug!(era = %discovery.era.describe(), "check: era found");
    let ctx = Context {
        settings: discover::pinned(settings, &discovery.era),
        url,
        server,
        runs: args.runs,
        concurrency: args.concurrency,
        discovery,
    };
    let (sequential, concurrent, checks) = match ctx.discovery.era {
        Era::Stateless => stateless::checks(&ctx).await?,
        Era::Session { .. } | Era::Legacy { .. } => session::checks(&ctx).await?,
    };
    Ok(Report::new(
        url.to_owned(),
        ctx.discovery.era.describe(),
        sequential,
        concurrent,
        checks,
    ))
}

impl Context<'_> {
    /// `runs` lifecycles one after the other, each counting our sockets; the first error
    /// ends the check.
    pub(crate) async fn sequential(
        &self,
        call: impl Fn(usize) -> Call,
        listen: bool,
    ) -> Result<Vec<Lifecycle>, CliError> {
        let mut done = Vec::new();
        for n in 0..usize::from(self.runs) {
            let one = lifecycle::run(
                &self.settings,
                self.url,
                &call(n),
                Some(&self.server),
                listen,
            )
            .await
            .map_err(|e| CliError::from_mcp(e, "a tool lifecycle failed", self.url))?;
            done.push(one);
        }
        Ok(done)
    }

    /// `concurrency` lifecycles at once, numbered after the sequential ones; a failed one is
    /// kept as a failure, for the findings.
    pub(crate) async fn concurrent(
        &self,
        call: impl Fn(usize) -> Call,
        listen: bool,
    ) -> Vec<Lifecycle> {
        let first = usize::from(self.runs);
        let calls: Vec<Call> = (0..usize::from(self.concurrency))
            .map(|n| call(first + n))
            .collect();
        let runs = calls
            .iter()
            .map(|call| lifecycle::run(&self.settings, self.url, call, None, listen));
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| Lifecycle::failed(&e)))
            .collect()
    }
}

/// The server's socket addresses, to recognise our connections to it.
async fn server_addrs(url: &str) -> Result<Vec<SocketAddr>, CliError> {
    let bad = || CliError::usage(format!("cannot read host and port from {url:?}"));
    let rest = url
        .strip_prefix("http://")
        .map(|r| (r, 80))
        .or_else(|| url.strip_prefix("https://").map(|r| (r, 443)));
    let (rest, default_port) =
        rest.ok_or_else(|| bad().hint("the URL must start with http:// or https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host_port = if authority.ends_with(']') || !authority.contains(':') {
        format!("{authority}:{default_port}")
    } else {
        authority.to_owned()
    };
    let addrs = tokio::net::lookup_host(host_port.as_str())
        .await
        .map_err(|e| {
            CliError::connection(format!("cannot resolve {host_port}"))
                .hint("check the host name in --url")
                .source(e)
        })?;
    Ok(addrs.collect())
}
