//! The `mcptool` command line.

mod serve;

use clap::{Parser, Subcommand};

/// Use remote MCP servers from the command line, or serve the strict reference server.
#[derive(Debug, Parser)]
#[command(name = "mcptool", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the strict reference MCP server until Ctrl-C.
    Serve(serve::ServeArgs),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mcptool: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
