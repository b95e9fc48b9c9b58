//! Every request to the MCP endpoint passes here: with OAuth configured, the authorization
//! layer adds the bearer token, and a 401 or a 403 `insufficient_scope` is turned into a
//! refresh or a new authorization and the request sent again (the server refused it before
//! doing anything). Without OAuth, the request is sent as it is.

use bytes::Bytes;
use http::header::HeaderMap;
use http::{Method, StatusCode};

use super::HttpTransport;
use super::response::{ERROR_BODY_LIMIT, read_limited};
use crate::auth::{Attempts, challenges, is_insufficient_scope};
use crate::error::Error;
use crate::transport::backend::{Pool, Response, Target};

impl HttpTransport {
    /// Sends one request through the authorization layer, if there is one.
    pub(super) async fn send_authorized(
        &self,
        client: &Pool,
        method: Method,
        target: &Target,
        mut headers: HeaderMap,
        body: Bytes,
        what: &str,
    ) -> Result<Response, Error> {
        let Some(auth) = &self.auth else {
            return client.send(method, target, headers, body, what).await;
        };
        let mut attempts = Attempts::default();
        loop {
            let sent = auth.apply(client, &mut headers).await?;
            let response = client
                .send(method.clone(), target, headers.clone(), body.clone(), what)
                .await?;
            let status = response.status();
            let www = challenges(response.headers());
            let denied = status == StatusCode::UNAUTHORIZED
                || (status == StatusCode::FORBIDDEN && is_insufficient_scope(&www));
            if !denied {
                return Ok(response);
            }
            // Read what little the refusal says, so that its connection is reused.
            let _ = read_limited(response, ERROR_BODY_LIMIT).await;
            // Boxed: discovery and the flow are large futures, and rare.
            Box::pin(auth.recover(client, status, &www, sent.as_ref(), &mut attempts)).await?;
        }
    }
}
