//! The `mcptool` command line.
//!
//! `main` parses the command line, sets up logging, and hands the subcommand to its module
//! (one module each). Client commands share [`connect::Common`]: without `--url` they start
//! the embedded strict server in this process.

mod answers;
mod args;
mod auth;
mod bench;
mod call;
mod check;
mod connect;
mod era;
mod exit;
mod form;
mod output;
mod progress;
mod prompt;
mod prompts;
mod read;
mod resources;
mod serve;
mod tools;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::connect::{Common, Session, Settings};
use crate::exit::{CliError, CliResult, Exit};

/// jemalloc, not the system allocator. With glibc's, memory freed on another thread than the
/// one that allocated it takes the lock of that thread's arena; a client and a server in one
/// process on two cores contended for those locks on every call (see BENCHMARKS.md).
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Use MCP servers over Streamable HTTP from the command line: list and call tools, prompts and
/// resources, check that sessions stay isolated, or serve the strict reference server.
///
/// Without --url, client commands start the embedded strict server on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(
    name = "mcptool",
    version,
    about,
    after_help = "Exit codes: 0 ok, 1 the tool returned isError, 2 usage error, \
                  3 connection or protocol failure, 4 check failed, 5 authorization needed \
                  or failed (see `mcptool login`)."
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// List the server's tools.
    Tools,
    /// Call a tool: `call echo message=hi` or `call add '{"a": 2, "b": 3}'`.
    Call(call::CallArgs),
    /// List the server's prompts.
    Prompts,
    /// Get a prompt: `prompt greeting name=Ada`.
    Prompt(prompt::PromptArgs),
    /// List the server's resources.
    Resources,
    /// Read a resource: `read demo://readme`.
    Read(read::ReadArgs),
    /// Check that the server keeps sessions isolated (exit 4 when it does not).
    Check(check::CheckArgs),
    /// Serve the strict reference MCP server until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Benchmark mcptool side by side with the raw HTTP floor and other MCP clients.
    Bench(bench::BenchArgs),
    /// Log in to the OAuth-protected server of --url and keep its tokens for the other commands.
    ///
    /// In the browser ($BROWSER, else the platform's opener; the URL is printed too), or as a
    /// machine with --client-credentials. Prints who it logged in to, never the token.
    Login,
    /// Forget the stored tokens of --url, or everything with --all.
    Logout(auth::logout::LogoutArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.common.verbose);
    let verbose = cli.common.verbose > 0;
    match run(&cli) {
        Ok(exit) => exit.into(),
        Err(err) => {
            err.report(verbose);
            err.exit().into()
        }
    }
}

/// Logs to stderr: warnings by default, `-v` debug, `-vv` trace; `RUST_LOG` wins when set.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "warn,mcptool=debug,mcptool_cli=debug,mcptool_server=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run(cli: &Cli) -> CliResult {
    if let Command::Serve(args) = &cli.command {
        return serve::run(args).map(|()| Exit::Ok).map_err(|e| {
            CliError::connection(format!("serve failed: {e}"))
                .hint("pick another --port, or --port 0 for a free one")
        });
    }
    if let Command::Bench(args) = &cli.command {
        return bench::run(&cli.common, args);
    }
    let settings = cli.common.settings()?;
    if let Command::Logout(args) = &cli.command {
        return auth::logout::run(&cli.common.auth, &settings, args);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::connection("cannot start the async runtime").source(e))?;
    runtime
        .block_on(client_command(cli, &settings))
        .map_err(|e| settings.explain(e))
}

async fn client_command(cli: &Cli, settings: &Settings) -> CliResult {
    let (command, json) = (&cli.command, cli.common.json);
    if let Command::Check(args) = command {
        return check::run(settings, args, json).await;
    }
    if let Command::Login = command {
        return auth::login::run(&cli.common.auth, settings, json).await;
    }
    let session = Session::open(settings).await?;
    let result = match command {
        Command::Tools => tools::run(&session, json).await,
        Command::Call(args) => call::run(&session, args, json).await,
        Command::Prompts => prompts::run(&session, json).await,
        Command::Prompt(args) => prompt::run(&session, args, json).await,
        Command::Resources => resources::run(&session, json).await,
        Command::Read(args) => read::run(&session, args, json).await,
        Command::Check(_)
        | Command::Serve(_)
        | Command::Bench(_)
        | Command::Login
        | Command::Logout(_) => unreachable!("handled above"),
    };
    session.finish().await;
    result
}
