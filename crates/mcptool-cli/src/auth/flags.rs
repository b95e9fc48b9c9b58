//! The OAuth flags every client command shares, and the [`OAuth`] configuration they make.

use std::path::PathBuf;
use std::sync::Arc;

use mcptool::{AuthorizationHandler, OAuth, PrivateKey, Secret, TokenStore};

use super::location;
use super::store::FileStore;
use crate::exit::CliError;

/// How the client gets OAuth tokens when the server asks for them. `--bearer`, `-H
/// 'Authorization: ...'` and `--no-auth` turn OAuth off.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "OAuth (see `mcptool login`)")]
pub(crate) struct AuthFlags {
    /// A pre-registered OAuth client id (else mcptool uses --client-metadata-url or registers
    /// itself with the authorization server).
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) client_id: Option<String>,
    /// The secret of --client-id (never printed).
    #[arg(
        long,
        global = true,
        env = "MCPTOOL_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub(crate) client_secret: Option<Secret>,
    /// An https URL of a client ID metadata document to use as the client id, where the
    /// authorization server supports them.
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) client_metadata_url: Option<String>,
    /// A scope to ask for (repeatable, or several space-separated). Default: what the server
    /// asks for.
    #[arg(long = "scope", global = true, value_name = "SCOPE")]
    pub(crate) scopes: Vec<String>,
    /// Get tokens with the client_credentials grant, as a machine (needs --client-id, and
    /// --client-secret or --private-key); no browser.
    #[arg(long, global = true)]
    pub(crate) client_credentials: bool,
    /// Authenticate the client with this private key (PEM, ES256 or RS256: private_key_jwt)
    /// instead of a secret.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) private_key: Option<PathBuf>,
    /// The key id (kid) to name in --private-key's assertions.
    #[arg(long, global = true, value_name = "KID")]
    pub(crate) private_key_kid: Option<String>,
    /// The token store file. Default: $XDG_CONFIG_HOME/mcptool/tokens.json, else
    /// ~/.config/mcptool/tokens.json.
    #[arg(
        long,
        global = true,
        env = "MCPTOOL_TOKEN_STORE",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub(crate) token_store: Option<PathBuf>,
    /// Never use OAuth: no stored tokens, no login.
    #[arg(long, global = true)]
    pub(crate) no_auth: bool,
}

impl AuthFlags {
    /// The token store these flags name (nothing is read yet).
    pub(crate) fn file_store(&self) -> FileStore {
        FileStore::new(location::store_path(self.token_store.as_deref()))
    }

    /// The OAuth configuration: the `client_credentials` grant with `--client-credentials`,
    /// else the code grant with `user` as the person's part; `store` lent either way.
    pub(crate) fn oauth(
        &self,
        user: Arc<dyn AuthorizationHandler>,
        store: Arc<dyn TokenStore>,
    ) -> Result<OAuth, CliError> {
        let has_credential = self.client_secret.is_some() || self.private_key.is_some();
        let mut oauth = match (&self.client_id, self.client_credentials) {
            (Some(id), true) if has_credential => OAuth::client_credentials(id),
            (_, true) => {
                return Err(CliError::usage(
                    "--client-credentials needs --client-id, and --client-secret or --private-key",
                )
                .hint("e.g. --client-credentials --client-id ID --client-secret SECRET"));
            }
            (None, false) if has_credential => {
                return Err(CliError::usage(
                    "--client-secret and --private-key belong to a --client-id",
                )
                .hint("pass the client's id with --client-id ID"));
            }
            (id, false) => {
                let oauth = OAuth::authorization_code_with(user);
                match id {
                    Some(id) => oauth.client_id(id),
                    None => oauth,
                }
            }
        };
        if let Some(secret) = &self.client_secret {
            oauth = oauth.client_secret(secret.expose());
        }
        if let Some(url) = &self.client_metadata_url {
            oauth = oauth.client_metadata_url(url);
        }
        let scopes = self.scopes();
        if !scopes.is_empty() {
            oauth = oauth.scopes(scopes);
        }
        if let Some(key) = self.key()? {
            oauth = oauth.private_key(key);
        }
        Ok(oauth.token_store(store))
    }

    /// `--scope` values, each split at spaces.
    fn scopes(&self) -> Vec<String> {
        self.scopes
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect()
    }

    /// `--private-key` read and parsed (its contents are never printed).
    fn key(&self) -> Result<Option<PrivateKey>, CliError> {
        let Some(path) = &self.private_key else {
            if self.private_key_kid.is_some() {
                return Err(
                    CliError::usage("--private-key-kid names the kid of a --private-key")
                        .hint("pass the key with --private-key FILE"),
                );
            }
            return Ok(None);
        };
        let pem = std::fs::read(path).map_err(|e| {
            CliError::usage(format!("cannot read --private-key {}: {e}", path.display()))
        })?;
        let key = PrivateKey::from_pem(&pem).map_err(|e| {
            CliError::usage(format!("--private-key {}: {e}", path.display()))
                .hint("give a P-256 (ES256) or RSA (RS256) private key in PEM")
        })?;
        Ok(Some(match &self.private_key_kid {
            Some(kid) => key.kid(kid),
            None => key,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct Flags {
        #[command(flatten)]
        auth: AuthFlags,
    }

    fn flags(args: &[&str]) -> AuthFlags {
        Flags::try_parse_from(std::iter::once("mcptool").chain(args.iter().copied()))
            .expect("flags parse")
            .auth
    }

    fn build(args: &[&str]) -> Result<OAuth, CliError> {
        let f = flags(args);
        let store = Arc::new(f.file_store());
        f.oauth(Arc::new(mcptool::LoopbackBrowser::new()), store)
    }

    #[test]
    fn scopes_are_repeatable_and_split_at_spaces() {
        let f = flags(&["--scope", "a b", "--scope", "c"]);
        assert_eq!(f.scopes(), ["a", "b", "c"]);
    }

    #[test]
    fn client_credentials_need_an_id_and_a_credential() {
        for bad in [
            &["--client-credentials"][..],
            &["--client-credentials", "--client-id", "m"],
            &["--client-credentials", "--client-secret", "s"],
            &["--client-secret", "s"],
            &["--private-key-kid", "k"],
        ] {
            let err = build(bad).expect_err("refused");
            assert_eq!(err.exit(), crate::exit::Exit::Usage, "{bad:?}");
        }
        build(&[
            "--client-credentials",
            "--client-id",
            "m",
            "--client-secret",
            "s",
        ])
        .expect("a machine client");
        build(&["--client-id", "pre-registered"]).expect("a code-grant client");
    }

    #[test]
    fn the_secret_is_never_shown() {
        let f = flags(&["--client-id", "m", "--client-secret", "hunter2-secret"]);
        assert!(!format!("{f:?}").contains("hunter2-secret"));
        let oauth = build(&["--client-id", "m", "--client-secret", "hunter2-secret"]);
        assert!(!format!("{:?}", oauth.expect("built")).contains("hunter2-secret"));
    }

    #[test]
    fn a_private_key_that_is_not_pem_is_a_usage_error_without_its_contents() {
        let dir = crate::auth::test_dir::TestDir::new("flags-key");
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "not-a-key-but-private-text").expect("write");
        let path = path.display().to_string();
        let err = build(&["--client-id", "m", "--private-key", &path]).expect_err("refused");
        assert_eq!(err.exit(), crate::exit::Exit::Usage);
        assert!(!err.to_string().contains("private-text"), "{err}");
    }
}
