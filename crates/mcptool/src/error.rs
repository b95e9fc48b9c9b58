//! The one error type of the crate.
//!
//! [`Error`] is opaque: ask it what happened with [`Error::kind`] and the predicates. Its
//! `Display` names this layer's failure only; the underlying cause is in
//! [`std::error::Error::source`].

use std::fmt;

use crate::protocol::RpcError;
use crate::transport::tls_failure;

/// Why a call failed, as a closed set of categories that says whose fault it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller misused the API or gave a bad configuration (a bad URL, a header that cannot
    /// be sent, an unknown tool, arguments that are not an object).
    Config,
    /// No TCP connection to the server could be made.
    Connect,
    /// The TLS handshake failed: the server's certificate is not trusted (or not for this
    /// host), or no protocol version or cipher was common. Not retried: trying again cannot
    /// change the answer.
    Tls,
    /// The network failed after the connection was made (a reset, a cut stream, a body that
    /// could not be read).
    Network,
    /// A deadline expired; [`Error::deadline`] says which.
    Timeout,
    /// The server no longer knows our session (404, or the 400 "no valid session" variant).
    SessionExpired,
    /// The server answered with an HTTP status that is not part of the protocol's success path.
    HttpStatus,
    /// The server broke the protocol: malformed JSON or SSE, a bad session id, an unexpected
    /// content type, an oversize message, an unsupported protocol version.
    Protocol,
    /// The server answered the request with a JSON-RPC error; see [`Error::rpc_error`].
    Rpc,
    /// The request was cancelled by the caller.
    Cancelled,
    /// The client was closed (or dropped) before or while the request ran.
    Closed,
    /// The server wants authorization the client could not get: no OAuth configured, or the
    /// flow failed; [`Error::auth_failure`] says at which step.
    Authorization,
}

/// Where authorization failed, for [`ErrorKind::Authorization`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The server answered 401 and the client has no OAuth configuration.
    Required,
    /// Metadata missing, malformed, or not matching (`resource`, `issuer`, no PKCE S256).
    Metadata,
    /// No client identity: nothing pre-registered, and neither a client ID metadata document
    /// nor dynamic registration is possible, or registration was refused.
    Registration,
    /// The user's part failed or was refused (the handler, `error=` on the redirect).
    Denied,
    /// The redirect did not belong to our request (`state` or RFC 9207 `iss` wrong).
    Redirect,
    /// The token endpoint refused, or answered something unusable.
    Token,
    /// The server refused every token the client could get (a 401 loop, or still too little
    /// scope after the re-authorizations allowed).
    Refused,
    /// The token store failed.
    Store,
}

/// Which deadline fired, for [`ErrorKind::Timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Deadline {
    /// Establishing the TCP/TLS connection.
    Connect,
    /// The `initialize` handshake.
    Initialize,
    /// One request, from sending it to its response.
    Request,
    /// The hard maximum of a request whose deadline progress notifications keep extending.
    MaxTotal,
    /// A tool's whole execution (`McpStreamableHttpTool::invoke`), retries included.
    Execution,
    /// No byte arrived on an SSE stream for the idle timeout.
    SseIdle,
    /// The session `DELETE` at `close()`.
    Close,
}

impl Deadline {
    fn as_str(self) -> &'static str {
        match self {
            Deadline::Connect => "connect",
            Deadline::Initialize => "initialize",
            Deadline::Request => "request",
            Deadline::MaxTotal => "maximum request",
            Deadline::Execution => "tool execution",
            Deadline::SseIdle => "SSE idle",
            Deadline::Close => "close",
        }
    }
}

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error of every fallible operation in this crate.
///
/// It is opaque and cheap to move (one pointer): inspect it with [`Error::kind`], the `is_*`
/// predicates, [`Error::status`], [`Error::deadline`] and [`Error::rpc_error`].
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    deadline: Option<Deadline>,
    status: Option<u16>,
    rpc: Option<RpcError>,
    auth: Option<AuthFailure>,
    /// The request was (or may have been) processed before the failure, so repeating it is
    /// not safe without the caller's consent.
    in_flight: bool,
    source: Option<BoxError>,
}

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                deadline: None,
                status: None,
                rpc: None,
                auth: None,
                in_flight: false,
                source: None,
            }),
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Error {
        self.inner.status = Some(status);
        self
    }

    /// Keeps the JSON-RPC error an HTTP error answer carried (its kind stays what it was).
    pub(crate) fn with_rpc(mut self, error: RpcError) -> Error {
        self.inner.rpc = Some(error);
        self
    }

    /// Marks a failure that happened after the server accepted the request: its result is
    /// lost, and the request must not be repeated automatically.
    pub(crate) fn lost_in_flight(mut self) -> Error {
        self.inner.in_flight = true;
        if self.inner.kind == ErrorKind::SessionExpired {
            self.inner.message =
                "session ended while the request was in flight; its result is lost".to_owned();
        }
        self
    }

    pub(crate) fn was_in_flight(&self) -> bool {
        self.inner.in_flight
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Protocol, message)
    }

    pub(crate) fn network(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Network, message)
    }

    pub(crate) fn authorization(what: AuthFailure, message: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::Authorization, message);
        e.inner.auth = Some(what);
        e
    }

    /// Marks a failure of the authorization layer's own traffic (a dead authorization
    /// server): the kind stays, [`Error::auth_failure`] says where, and it is not retried.
    pub(crate) fn in_authorization(mut self, what: AuthFailure) -> Error {
        self.inner.auth.get_or_insert(what);
        self
    }

    pub(crate) fn closed() -> Error {
        Error::new(ErrorKind::Closed, "client is closed")
    }

    pub(crate) fn cancelled() -> Error {
        Error::new(ErrorKind::Cancelled, "request cancelled by the caller")
    }

    pub(crate) fn timeout(deadline: Deadline) -> Error {
        let mut e = Error::new(ErrorKind::Timeout, format!("{} timeout", deadline.as_str()));
        e.inner.deadline = Some(deadline);
        e
    }

    pub(crate) fn session_expired(status: u16) -> Error {
        Error::new(
            ErrorKind::SessionExpired,
            "session expired or unknown to the server",
        )
        .with_status(status)
    }

    pub(crate) fn rpc(error: RpcError) -> Error {
        let mut e = Error::new(
            ErrorKind::Rpc,
            format!("server returned JSON-RPC error {}", error.code),
        );
        e.inner.rpc = Some(error);
        e
    }

    /// Classifies a `reqwest` failure: connect, timeout or network.
    pub(crate) fn from_reqwest(context: &str, err: reqwest::Error) -> Error {
        if let Some(tls) = tls_failure(&err) {
            return Error::tls(context, &tls).with_source(err);
        }
        if err.is_connect() {
            let timed_out = err.is_timeout();
            return Error::connect_failed(context, err, timed_out);
        }
        if err.is_timeout() {
            return Error::timeout(Deadline::Request).with_source(err);
        }
        if err.is_builder() {
            return Error::config(format!("{context}: invalid request")).with_source(err);
        }
        Error::network(format!("{context}: network failure")).with_source(err)
    }

    /// A connection that could not be made: the connect deadline when `timed_out` or anything
    /// in the error's chain says it timed out, else a connect error.
    pub(crate) fn connect_failed(
        context: &str,
        err: impl Into<BoxError>,
        timed_out: bool,
    ) -> Error {
        let err = err.into();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&*err);
        let mut timed_out = timed_out;
        while let (false, Some(s)) = (timed_out, source) {
            timed_out = s
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
                || s.to_string().contains("timed out");
            source = s.source();
        }
        if timed_out {
            return Error::timeout(Deadline::Connect).with_source(err);
        }
        Error::new(ErrorKind::Connect, format!("{context}: connection failed")).with_source(err)
    }

    /// A failed TLS handshake, with rustls's reason.
    pub(crate) fn tls(context: &str, reason: &rustls::Error) -> Error {
        Error::new(
            ErrorKind::Tls,
            format!("{context}: TLS handshake failed: {reason}"),
        )
    }

    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Which deadline fired, when this is a timeout.
    pub fn deadline(&self) -> Option<Deadline> {
        self.inner.deadline
    }

    /// The HTTP status the server answered with, when one is the reason for this error.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The JSON-RPC error object the server sent, for [`ErrorKind::Rpc`].
    pub fn rpc_error(&self) -> Option<&RpcError> {
        self.inner.rpc.as_ref()
    }

    /// Where authorization failed, for [`ErrorKind::Authorization`].
    pub fn auth_failure(&self) -> Option<AuthFailure> {
        self.inner.auth
    }

    /// A deadline expired.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The connection to the server could not be made.
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// The server dropped our session.
    pub fn is_session_expired(&self) -> bool {
        self.inner.kind == ErrorKind::SessionExpired
    }

    /// The server broke the protocol.
    pub fn is_protocol(&self) -> bool {
        self.inner.kind == ErrorKind::Protocol
    }

    /// The server answered with a JSON-RPC error.
    pub fn is_rpc(&self) -> bool {
        self.inner.kind == ErrorKind::Rpc
    }

    /// The client was closed.
    pub fn is_closed(&self) -> bool {
        self.inner.kind == ErrorKind::Closed
    }

    /// The caller cancelled the request.
    pub fn is_cancelled(&self) -> bool {
        self.inner.kind == ErrorKind::Cancelled
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(deadline) = self.inner.deadline {
            d.field("deadline", &deadline);
        }
        if let Some(status) = self.inner.status {
            d.field("status", &status);
        }
        if let Some(rpc) = &self.inner.rpc {
            d.field("rpc", rpc);
        }
        if let Some(auth) = self.inner.auth {
            d.field("auth", &auth);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(status) = self.inner.status {
            write!(f, " (HTTP {status})")?;
        }
        if let Some(rpc) = &self.inner.rpc {
            write!(f, ": {}", rpc.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests;
