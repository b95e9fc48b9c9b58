//! Connection establishment: the connector (DNS, `TCP_NODELAY`, the connect timeout, TLS) and
//! one HTTP/1.1 connection dialled and handshaken.

use std::future::poll_fn;
use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::task::AbortHandle;
use tower_service::Service;

use super::SendError;
use crate::error::Error;
use crate::transport::tls;

/// What dials the server: hyper-util's TCP connector under hyper-rustls.
pub(super) type Connector = HttpsConnector<HttpConnector>;

/// A handshaken connection, to be driven by a task of the pool.
pub(super) type Connection = http1::Connection<<Connector as Service<Uri>>::Response, Full<Bytes>>;

/// One connection: the handle requests are sent through, and its driver task. Dropping it
/// aborts the driver, which closes the socket.
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) send: SendRequest<Full<Bytes>>,
    pub(super) driver: AbortHandle,
    /// Where it is connected to: it carries requests for that origin only.
    pub(super) origin: Uri,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// A connector with `TCP_NODELAY`, the connect timeout, HTTP/1.1, the process-wide TLS
/// configuration and no proxy.
pub(super) fn connector(connect_timeout: Duration) -> Result<Connector, Error> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    http.enforce_http(false);
    // hyper-rustls sets ALPN itself (and refuses a configuration that already has it).
    let mut tls = tls::client_config()?;
    tls.alpn_protocols.clear();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http))
}

/// Dials `origin` and makes the HTTP/1.1 handshake.
pub(super) async fn dial(
    connector: &Connector,
    origin: &Uri,
) -> Result<(SendRequest<Full<Bytes>>, Connection), SendError> {
    let mut connector = connector.clone();
    poll_fn(|cx| connector.poll_ready(cx))
        .await
        .map_err(SendError::Connect)?;
    let io = connector
        .call(origin.clone())
        .await
        .map_err(SendError::Connect)?;
    http1::handshake(io)
        .await
        .map_err(|e| SendError::Connect(e.into()))
}
