//! `mcptool login`: logs in to `--url` now, in the browser (or as a machine with
//! `--client-credentials`), keeps the tokens in the store file, and says who it logged in to —
//! never the token.
//!
//! The client connects with the stored tokens hidden from it ([`Fresh`]), so the server's 401
//! leads to discovery, consent and a token even when a login is already stored; the new tokens
//! replace the old ones only once they are there.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use mcptool::{ClientRegistration, LoopbackBrowser, StoreFuture, StoredTokens, TokenStore};
use serde_json::json;

use super::AuthFlags;
use super::store::FileStore;
use crate::connect::Settings;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::print_json;

/// Logs in to the server of `settings`.
pub(crate) async fn run(flags: &AuthFlags, settings: &Settings, json: bool) -> CliResult {
    let url = settings.url.as_deref().ok_or_else(|| {
        CliError::usage("login needs the server: --url URL")
            .hint("e.g. mcptool login --url http://127.0.0.1:8080/mcp")
    })?;
    if settings.auth.is_none() {
        return Err(CliError::usage(
            "login gets OAuth tokens, which --bearer, -H 'Authorization: ...' and --no-auth turn off",
        )
        .hint("drop those flags"));
    }
    let store = Arc::new(flags.file_store());
    let fresh = Arc::new(Fresh::new(Arc::clone(&store)));
    let oauth = flags.oauth(Arc::new(LoopbackBrowser::new()), fresh.clone())?;
    let client = settings
        .builder(url)
        .oauth(oauth)
        .connect()
        .await
        .map_err(|e| CliError::from_mcp(e, "login failed", url))?;
    if let Err(err) = client.close().await {
        tracing::warn!(%err, "closing the session failed");
    }
    let Some(tokens) = fresh.saved() else {
        println!("{url} did not ask for authorization: nothing to log in to, nothing stored");
        return Ok(Exit::Ok);
    };
    let place = store
        .path()
        .map_or_else(String::new, |p| p.display().to_string());
    if json {
        print_json(&json!({
            "resource": tokens.resource,
            "issuer": tokens.issuer,
            "clientId": tokens.client_id,
            "scopes": tokens.scopes,
            "expiresAt": tokens.expires_at,
            "refreshable": tokens.refresh_token.is_some(),
            "store": place,
        }))?;
    } else {
        let renewal = if flags.client_credentials {
            "renewed with the client's credentials"
        } else if tokens.refresh_token.is_some() {
            "refreshed automatically"
        } else {
            "no refresh token: log in again then"
        };
        print!("{}", describe(&tokens, &place, renewal, now_secs()));
    }
    Ok(Exit::Ok)
}

/// Who the tokens are from and for, in words; never the tokens.
fn describe(tokens: &StoredTokens, place: &str, renewal: &str, now: u64) -> String {
    let scopes = if tokens.scopes.is_empty() {
        "(none named)".to_owned()
    } else {
        tokens.scopes.join(" ")
    };
    let expires = match tokens.expires_at {
        Some(at) => format!(
            "{} (in {}), {renewal}",
            utc(at),
            span(at.saturating_sub(now))
        ),
        None => "not said by the server".to_owned(),
    };
    format!(
        "logged in to {}\n  issuer   {}\n  client   {}\n  scopes   {scopes}\n  expires  \
         {expires}\n  stored   {place}\n",
        tokens.resource, tokens.issuer, tokens.client_id
    )
}

/// `1h 2m 3s`, `5m 0s`, `7s`.
fn span(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m {s}s"),
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` of Unix time `secs` (the proleptic Gregorian calendar).
fn utc(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 0000-03-01 in 400-year eras of 146 097 days; March-based years put the leap
    // day last.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The file store with its kept tokens hidden: the client logs in again, and what it saves
/// goes to the file and is remembered for the report. Client registrations pass through.
#[derive(Debug)]
struct Fresh {
    store: Arc<FileStore>,
    saved: Mutex<Option<StoredTokens>>,
}

impl Fresh {
    fn new(store: Arc<FileStore>) -> Fresh {
        Fresh {
            store,
            saved: Mutex::new(None),
        }
    }

    fn saved(&self) -> Option<StoredTokens> {
        self.saved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl TokenStore for Fresh {
    fn tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, Option<StoredTokens>> {
        let this_login = self.saved().filter(|t| t.resource == resource);
        Box::pin(async move { Ok(this_login) })
    }

    fn save_tokens(&self, tokens: StoredTokens) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.store.save_tokens(tokens.clone()).await?;
            *self.saved.lock().unwrap_or_else(PoisonError::into_inner) = Some(tokens);
            Ok(())
        })
    }

    fn remove_tokens<'a>(&'a self, resource: &'a str) -> StoreFuture<'a, ()> {
        {
            let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
            if saved.as_ref().is_some_and(|t| t.resource == resource) {
                *saved = None;
            }
        }
        self.store.remove_tokens(resource)
    }

    fn client<'a>(&'a self, issuer: &'a str) -> StoreFuture<'a, Option<ClientRegistration>> {
        self.store.client(issuer)
    }

    fn save_client(&self, client: ClientRegistration) -> StoreFuture<'_, ()> {
        self.store.save_client(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_spans_read_as_people_write_them() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_798_761_599), "2026-12-31 23:59:59 UTC");
        assert_eq!(span(7), "7s");
        assert_eq!(span(300), "5m 0s");
        assert_eq!(span(3723), "1h 2m 3s");
    }

    #[test]
    fn the_description_names_everything_but_the_tokens() {
        let tokens: StoredTokens = serde_json::from_value(json!({
            "issuer": "http://127.0.0.1:9000",
            "resource": "http://127.0.0.1:8080/mcp",
            "access_token": "access-secret-1",
            "refresh_token": "refresh-secret-1",
            "expires_at": 1_000_300,
            "scopes": ["mcp:tools", "offline_access"],
            "token_endpoint": "http://127.0.0.1:9000/token",
            "client_id": "c-1",
        }))
        .expect("tokens");
        let text = describe(&tokens, "/tmp/t.json", "refreshed automatically", 1_000_000);
        for part in [
            "http://127.0.0.1:8080/mcp",
            "http://127.0.0.1:9000",
            "c-1",
            "mcp:tools offline_access",
            "(in 5m 0s)",
            "/tmp/t.json",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        assert!(!text.contains("secret"), "{text}");
    }
}
