//! Headers computed per request (fresh tokens, tracing ids) by an async provider.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderMap;

/// The future a [`HeaderProvider`] returns: headers to add, or a message saying why none could
/// be made (the request then fails with a configuration error).
pub type HeaderFuture = Pin<Box<dyn Future<Output = Result<HeaderMap, String>> + Send>>;

/// Computes headers for every request the client sends — `initialize`, calls, notifications,
/// the standalone GET and the closing `DELETE`.
///
/// The headers go only to the server's own URL: the client sends every request to that one
/// endpoint and never follows redirects. Their values are marked sensitive and never logged.
#[derive(Clone)]
pub struct HeaderProvider(Arc<dyn Fn() -> HeaderFuture + Send + Sync>);

impl HeaderProvider {
    /// Wraps an async function returning the headers to add.
    pub fn new<F, Fut>(f: F) -> HeaderProvider
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<HeaderMap, String>> + Send + 'static,
    {
        HeaderProvider(Arc::new(move || Box::pin(f())))
    }

    pub(crate) fn headers(&self) -> HeaderFuture {
        (self.0)()
    }
}

impl fmt::Debug for HeaderProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeaderProvider(..)")
    }
}
