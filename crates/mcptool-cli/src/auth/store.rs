//! The command line's [`TokenStore`]: one JSON file that every command shares (where it lives:
//! [`super::location`]), so a login lasts across commands and refreshed tokens are kept.
//!
//! The file, version 1:
//!
//! ```text
//! {
//!   "version": 1,
//!   "tokens": [ { "issuer", "resource", "access_token", "expires_at", "refresh_token",
//!                 "scopes", "token_endpoint", "client_id" }, ... ],
//!   "clients": [ { "issuer", "client_id", "client_secret", "token_endpoint_auth_method",
//!                  "redirect_uris", "client_secret_expires_at" }, ... ]
//! }
//! ```
//!
//! `tokens` has one entry per protected resource (the library looks tokens up by resource; each
//! entry records the issuer that issued it), `clients` one registration per issuer. The file is
//! private to its owner ([`super::private_file`]): created 0600, refused when others may read it.
//!
//! Two processes at once: there is no lock. Every change re-reads the file, applies itself by
//! key (one resource's tokens, one issuer's client) to what it found, and replaces the whole
//! file atomically, so a reader never sees half a file and changes to other keys survive. When
//! two changes race, the last rename wins: the other's change is lost — at worst a rotated
//! refresh token, after which that resource needs a new `mcptool login`. Within one process
//! changes are serialised.

use std::fmt;
use std::future::ready;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use mcptool::{ClientRegistration, StoreFuture, StoredTokens, TokenStore};
use serde::{Deserialize, Serialize};

use super::private_file;

/// The format version this mcptool reads and writes.
const FORMAT: u32 = 1;

/// The token store file.
pub(crate) struct FileStore {
    /// `None`: no place for it (no `HOME` and no `--token-store`); it then holds nothing.
    path: Option<PathBuf>,
    /// One read-change-write at a time in this process.
    changes: Mutex<()>,
}

/// What the file holds.
#[derive(Debug, Serialize, Deserialize)]
struct Contents {
    version: u32,
    #[serde(default)]
    tokens: Vec<StoredTokens>,
    #[serde(default)]
    clients: Vec<ClientRegistration>,
}

impl Default for Contents {
    fn default() -> Contents {
        Contents {
            version: FORMAT,
            tokens: Vec::new(),
            clients: Vec::new(),
        }
    }
}

/// What [`FileStore::clear`] removed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cleared {
    /// There was no file.
    Nothing,
    /// The file, which held these many entries.
    Entries { tokens: usize, clients: usize },
    /// The file, which could not be read (corrupt, or open to others).
    Unreadable,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// The store at `path`; nothing is read before the first use.
    pub(crate) fn new(path: Option<PathBuf>) -> FileStore {
        FileStore {
            path,
            changes: Mutex::new(()),
        }
    }

    /// Where it is, if anywhere.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The tokens kept for `resource`.
    pub(crate) fn tokens_of(&self, resource: &str) -> Result<Option<StoredTokens>, String> {
        Ok(self
            .load()?
            .tokens
            .into_iter()
            .find(|t| t.resource == resource))
    }

    /// Forgets the tokens of `resource`; what was removed.
    pub(crate) fn remove_resource(&self, resource: &str) -> Result<Option<StoredTokens>, String> {
        if self.path.is_none() {
            return Ok(None);
        }
        self.change(|c| {
            let at = c.tokens.iter().position(|t| t.resource == resource)?;
            Some(c.tokens.remove(at))
        })
    }

    /// Removes the file, whatever it holds (a corrupt one too).
    pub(crate) fn clear(&self) -> Result<Cleared, String> {
        let Some(path) = &self.path else {
            return Ok(Cleared::Nothing);
        };
        let _change = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let held = match private_file::read(path) {
            Ok(None) => return Ok(Cleared::Nothing),
            Ok(Some(bytes)) => parse(path, &bytes).ok(),
            Err(_) => None,
        };
        private_file::remove(path)?;
        Ok(held.map_or(Cleared::Unreadable, |c| Cleared::Entries {
            tokens: c.tokens.len(),
            clients: c.clients.len(),
        }))
    }

    fn load(&self) -> Result<Contents, String> {
        let Some(path) = &self.path else {
            return Ok(Contents::default());
        };
        match private_file::read(path)? {
            Some(bytes) => parse(path, &bytes),
            None => Ok(Contents::default()),
        }
    }

    /// Re-reads the file, applies `f`, writes the result back.
    fn change<T>(&self, f: impl FnOnce(&mut Contents) -> T) -> Result<T, String> {
        let path = self.path.as_deref().ok_or_else(|| {
            "there is no place for the token store: HOME is not set; pass --token-store FILE"
                .to_owned()
        })?;
        let _change = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut contents = self.load()?;
        let out = f(&mut contents);
        contents.tokens.sort_by(|a, b| a.resource.cmp(&b.resource));
        contents.clients.sort_by(|a, b| a.issuer.cmp(&b.issuer));
        let bytes = serde_json::to_vec_pretty(&contents)
            .map_err(|_| format!("cannot encode the token store {}", path.display()))?;
        private_file::write(path, &bytes)?;
        Ok(out)
    }
}

/// The contents, or a message that names the file and the way out — never its contents
/// (serde's messages may quote a value, so only the position is kept).
fn parse(path: &Path, bytes: &[u8]) -> Result<Contents, String> {
    let contents: Contents = serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "not in the token store's format",
            _ => "not valid JSON",
        };
        format!(
            "the token store {} is {what} (line {}, column {}): delete it or run \
             `mcptool logout --all`",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if contents.version != FORMAT {
        return Err(format!(
            "the token store {} has format version {}, which this mcptool does not know \
             (it knows {FORMAT}): delete it or run `mcptool logout --all`",
            path.display(),
            contents.version
        ));
    }
    Ok(contents)
}

// The file is small and local: the methods do their I/O before returning a ready future
// rather than taking a blocking thread for each.
impl TokenStore for FileStore {
    fn tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, Option<StoredTokens>> {
        Box::pin(ready(self.tokens_of(resource)))
    }

    fn save_tokens(&self, tokens: StoredTokens) -> StoreFuture<'_, ()> {
        Box::pin(ready(self.change(|c| {
            c.tokens.retain(|t| t.resource != tokens.resource);
            c.tokens.push(tokens);
        })))
    }

    fn remove_tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(ready(self.remove_resource(resource).map(drop)))
    }

    fn client<'a>(&'a self, issuer: &'a str) -> StoreFuture<'a, Option<ClientRegistration>> {
        let found = self
            .load()
            .map(|c| c.clients.into_iter().find(|r| r.issuer == issuer));
        Box::pin(ready(found))
    }

    fn save_client(&self, client: ClientRegistration) -> StoreFuture<'_, ()> {
        Box::pin(ready(self.change(|c| {
            c.clients.retain(|r| r.issuer != client.issuer);
            c.clients.push(client);
        })))
    }
}

#[cfg(test)]
mod tests;
