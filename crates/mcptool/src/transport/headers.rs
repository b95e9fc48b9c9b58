//! Headers computed per request (fresh tokens, tracing ids) by an async provider.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};

/// The future a [`HeaderProvider`] returns: headers to add, as `(name, value)` pairs, or a
/// message saying why none could be made (the request then fails with a configuration error).
pub type HeaderFuture = Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, String>> + Send>>;

/// Computes headers for every request the client sends — `initialize`, calls, notifications,
/// the standalone GET and the closing `DELETE`.
///
/// The headers go only to the server's own URL: the client sends every request to that one
/// endpoint and never follows redirects. Their values are marked sensitive and never logged.
/// A name or value that is not a valid header (a CR or LF in it, say) fails that request with
/// a configuration error naming the header; nothing is sent.
#[derive(Clone)]
pub struct HeaderProvider(Arc<dyn Fn() -> HeaderFuture + Send + Sync>);

impl HeaderProvider {
    /// Wraps an async function returning the headers to add.
    pub fn new<F, Fut>(f: F) -> HeaderProvider
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<(String, String)>, String>> + Send + 'static,
    {
        HeaderProvider(Arc::new(move || Box::pin(f())))
    }

    /// Runs the provider and adds what it gave to `headers`, replacing headers of the same
    /// name.
    pub(crate) async fn add_to(&self, headers: &mut HeaderMap) -> Result<(), crate::Error> {
        let provided = (self.0)()
            .await
            .map_err(|e| crate::Error::config(format!("header provider failed: {e}")))?;
        for (name, value) in provided {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                crate::Error::config(format!(
                    "the header provider gave an invalid header name {name:?}"
                ))
                .with_source(e)
            })?;
            let mut value = HeaderValue::from_str(&value).map_err(|e| {
                crate::Error::config(format!(
                    "the header provider gave an invalid value for {name}"
                ))
                .with_source(e)
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        Ok(())
    }
}

impl fmt::Debug for HeaderProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeaderProvider(..)")
    }
}
