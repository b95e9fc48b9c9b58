//! Streamable HTTP: one POST per message, an optional standalone GET stream, DELETE at close.
//!
//! The transport knows HTTP, SSE and the session headers; it knows nothing of request ids or
//! what the messages mean (that is `client`).

mod backend;
mod headers;
mod http;
mod pool;
mod session;
mod sse;
mod tls;

pub(crate) use backend::{Pool, Target};
pub use headers::{HeaderFuture, HeaderProvider};
#[cfg(feature = "reqwest-client")]
pub use http::http_client_builder;
pub(crate) use http::{
    DeleteOutcome, GetOutcome, HttpConfig, HttpTransport, PostResponse, check_url, read_limited,
};
pub use session::SessionId;
pub(crate) use sse::SseStream;
pub(crate) use tls::tls_failure;
