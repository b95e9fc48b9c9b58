//! The person's part of the code grant when no person is there: stdin or stderr is not a
//! terminal, so no browser is opened. The handler refuses, and remembers that it was asked,
//! so that the command's error can say to log in first.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mcptool::{AuthorizationHandler, AuthorizeFuture};

/// Refuses every authorization; [`Unattended::asked`] says whether one was needed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unattended {
    asked: Arc<AtomicBool>,
}

impl Unattended {
    /// Whether the client needed a login since this handler was made.
    pub(crate) fn asked(&self) -> bool {
        self.asked.load(Ordering::Relaxed)
    }

    fn refuse(&self) -> AuthorizeFuture<'_> {
        self.asked.store(true, Ordering::Relaxed);
        Box::pin(async {
            Err(
                "a login is needed, and mcptool opens a browser only when stdin and stderr \
                 are a terminal"
                    .to_owned(),
            )
        })
    }
}

impl AuthorizationHandler for Unattended {
    // The client asks for the redirect URI before anything else of a login.
    fn redirect_uri(&self) -> AuthorizeFuture<'_> {
        self.refuse()
    }

    fn authorize<'a>(&'a self, _url: &'a str) -> AuthorizeFuture<'a> {
        self.refuse()
    }
}
