//! `mcptool logout`: forgets the stored tokens of `--url`, or with `--all` removes the whole
//! store file (a corrupt one too), and says what it removed. Nothing is revoked at the
//! authorization server: the tokens simply stop being used.

use super::resource::resource_key;
use super::store::Cleared;
use super::{AuthFlags, store_error};
use crate::connect::Settings;
use crate::exit::{CliError, CliResult, Exit};

/// Options of `mcptool logout`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogoutArgs {
    /// Forget everything: every server's tokens and every client registration (the store
    /// file is removed, even one that cannot be read).
    #[arg(long)]
    all: bool,
}

/// Forgets what `args` say.
pub(crate) fn run(flags: &AuthFlags, settings: &Settings, args: &LogoutArgs) -> CliResult {
    let store = flags.file_store();
    let place = store.path().map_or_else(
        || "(no token store)".to_owned(),
        |p| p.display().to_string(),
    );
    if args.all {
        let said = match store.clear().map_err(store_error)? {
            Cleared::Nothing => format!("nothing to remove: there is no token store at {place}"),
            Cleared::Entries { tokens, clients } => {
                format!("removed {place}: {tokens} login(s) and {clients} client registration(s)")
            }
            Cleared::Unreadable => format!("removed the unreadable token store {place}"),
        };
        println!("{said}");
        return Ok(Exit::Ok);
    }
    let url = settings.url.as_deref().ok_or_else(|| {
        CliError::usage("logout needs the server (--url URL), or --all")
            .hint("e.g. mcptool logout --url http://127.0.0.1:8080/mcp")
    })?;
    let resource =
        resource_key(url).ok_or_else(|| CliError::usage(format!("--url {url:?} is not a URL")))?;
    match store.remove_resource(&resource).map_err(store_error)? {
        Some(tokens) => println!(
            "logged out of {resource}: removed the tokens of {} from {place}",
            tokens.issuer
        ),
        None => println!("not logged in to {resource}: {place} holds no tokens for it"),
    }
    Ok(Exit::Ok)
}
