//! OAuth on the command line: the token store file every command shares ([`store`], its
//! place [`location`], its file [`private_file`]), the flags ([`flags`]), and the `login`
//! and `logout` commands.
//!
//! Client commands use the stored tokens and refresh them through [`Authorization`]: when the
//! server asks for a login and there is none, they run the browser flow on a terminal and,
//! elsewhere, fail with the hint to run `mcptool login` ([`unattended`]).

mod flags;
mod location;
pub(crate) mod login;
pub(crate) mod logout;
mod private_file;
mod resource;
mod store;
#[cfg(test)]
mod test_dir;
mod unattended;

use std::io::IsTerminal as _;
use std::sync::Arc;

use mcptool::{AuthorizationHandler, LoopbackBrowser, OAuth};

pub(crate) use flags::AuthFlags;
use store::FileStore;
use unattended::Unattended;

use crate::exit::{CliError, Exit};

/// The OAuth setup of the client commands: the flags' configuration with the file store lent.
#[derive(Debug, Clone)]
pub(crate) struct Authorization {
    pub(crate) oauth: OAuth,
    store: Arc<FileStore>,
    url: String,
    /// Set when no terminal was there to log in on.
    unattended: Option<Unattended>,
}

impl Authorization {
    /// The setup for commands on `url`: the browser when stdin and stderr are a terminal,
    /// else a refusal that asks for `mcptool login`.
    pub(crate) fn for_commands(flags: &AuthFlags, url: &str) -> Result<Authorization, CliError> {
        let attended = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let unattended = (!attended).then(Unattended::default);
        let user: Arc<dyn AuthorizationHandler> = match &unattended {
            Some(handler) => Arc::new(handler.clone()),
            None => Arc::new(LoopbackBrowser::new()),
        };
        let store = Arc::new(flags.file_store());
        let oauth = flags.oauth(user, store.clone())?;
        Ok(Authorization {
            oauth,
            store,
            url: url.to_owned(),
            unattended,
        })
    }

    /// The `Authorization` header of the access token stored for `url`, for requests made
    /// outside a client (`check`'s raw probes); they cannot refresh it, so call this after a
    /// client has connected.
    pub(crate) fn stored_bearer(&self, url: &str) -> Option<String> {
        let tokens = self.store.tokens_of(&resource::resource_key(url)?).ok()??;
        Some(format!("Bearer {}", tokens.access_token.expose()))
    }

    /// `err` with the hint to log in, when the command needed a login it could not run.
    pub(crate) fn explain(&self, err: CliError) -> CliError {
        let asked = self.unattended.as_ref().is_some_and(Unattended::asked);
        if asked && err.exit() == Exit::Authorization {
            err.hint(format!(
                "no stored login for this server: run `mcptool login --url {}` on a terminal \
                 first",
                self.url
            ))
        } else {
            err
        }
    }
}

/// The error of the token store file itself, outside a client (login, logout).
fn store_error(message: String) -> CliError {
    CliError::new(Exit::Authorization, message)
}
