//! The user's part of the authorization code flow: where the authorization server sends the
//! user back, and getting the user there and back.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// The future an [`AuthorizationHandler`] returns: a URL, or a message saying why there is none.
pub type AuthorizeFuture<'a> = Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>>;

/// Takes the user through the authorization server's consent.
///
/// The client calls [`redirect_uri`](AuthorizationHandler::redirect_uri) before each
/// authorization (it is registered and sent with the request), then
/// [`authorize`](AuthorizationHandler::authorize) with the authorization URL; the handler gets the
/// user there and returns the URL the authorization server redirected back to, whose `code`,
/// `state` and `iss` the client checks. Time spent in `authorize` does not count against request
/// deadlines (up to 15 minutes past them).
///
/// [`LoopbackBrowser`](crate::LoopbackBrowser) is the ready one: it opens the browser and
/// listens on 127.0.0.1. [`authorization_handler`] makes one from a closure.
pub trait AuthorizationHandler: Send + Sync + fmt::Debug {
    /// The redirect URI the authorization server is to send the user back to.
    fn redirect_uri(&self) -> AuthorizeFuture<'_>;
    /// Sends the user to `url` and returns the full redirect URL they came back with.
    fn authorize<'a>(&'a self, url: &'a str) -> AuthorizeFuture<'a>;
}

type AuthorizeFn = dyn Fn(String) -> AuthorizeFuture<'static> + Send + Sync;

/// A handler made of a fixed redirect URI and an async function from the authorization URL to
/// the redirect URL (a test driving a consent page, an app with its own web view).
pub fn authorization_handler<F, Fut>(
    redirect_uri: impl Into<String>,
    authorize: F,
) -> Arc<dyn AuthorizationHandler>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, String>> + Send + 'static,
{
    Arc::new(FnHandler {
        redirect_uri: redirect_uri.into(),
        authorize: Box::new(move |url| Box::pin(authorize(url))),
    })
}

struct FnHandler {
    redirect_uri: String,
    authorize: Box<AuthorizeFn>,
}

impl fmt::Debug for FnHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnHandler")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl AuthorizationHandler for FnHandler {
    fn redirect_uri(&self) -> AuthorizeFuture<'_> {
        let uri = self.redirect_uri.clone();
        Box::pin(async move { Ok(uri) })
    }

    fn authorize<'a>(&'a self, url: &'a str) -> AuthorizeFuture<'a> {
        (self.authorize)(url.to_owned())
    }
}
