//! `server/discover`, the 2026-07-28 handshake: what the server serves and says about
//! itself, kept in the shape `initialize` would have given, with its caching hints (which let a
//! lent era cache reuse it).

use std::sync::{Arc, PoisonError};

use serde_json::Value;

use super::options::RequestOptions;
use super::shared::Shared;
use super::stateless::Stateless;
use crate::error::Error;
use crate::protocol::modern::{CacheHint, DiscoverResult, STATELESS_VERSION};
use crate::protocol::{Implementation, InitializeResult};

impl Shared {
    /// `server/discover` in place of `initialize`: the server must serve 2026-07-28. What it
    /// says is kept in the shape `initialize` would have given.
    pub(crate) async fn discover(
        self: &Arc<Self>,
        dialect: &Stateless,
    ) -> Result<Arc<InitializeResult>, Error> {
        let options = RequestOptions {
            timeout: Some(self.settings.initialize_timeout),
            ..RequestOptions::default()
        };
        let discovered: DiscoverResult = self
            .stateless_request(dialect, "server/discover", None::<&Value>, &options)
            .await?;
        if !discovered.serves_stateless() {
            return Err(Error::protocol(format!(
                "the server does not serve {STATELESS_VERSION}; it serves {}",
                discovered.supported_versions.join(", ")
            )));
        }
        *dialect
            .discovered
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(CacheHint::read(
            discovered.ttl_ms.as_ref(),
            discovered.cache_scope.as_deref(),
        ));
        let server_info = discovered.server_info().unwrap_or(Implementation {
            name: "unknown".into(),
            version: "unknown".into(),
            title: None,
        });
        let result = Arc::new(InitializeResult {
            protocol_version: STATELESS_VERSION.to_owned(),
            capabilities: discovered.capabilities,
            server_info,
            instructions: discovered.instructions,
        });
        self.adopt_discovered(Arc::clone(&result));
        tracing::debug!(version = STATELESS_VERSION, "server discovered");
        Ok(result)
    }

    /// Speaks 2026-07-28 from now on, with what `server/discover` said (now or, through a lent
    /// era cache, to another client a moment ago).
    pub(crate) fn adopt_discovered(&self, result: Arc<InitializeResult>) {
        *self.server.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        self.phase.opened(true);
    }

    /// The caching hints of this client's `server/discover` answer, once it has one.
    pub(crate) fn discovered_hint(&self) -> Option<CacheHint> {
        *self
            .probe_dialect()?
            .discovered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
