"""The exceptions of mcptool: one class per error kind of the Rust core, all under `Error`.

Every exception carries what the core knew: `kind` (the core's error kind, e.g. "timeout"),
`status` (the HTTP status, when one was received), `code` / `data` (the JSON-RPC error of an
`RpcError`), `auth_failure` (what went wrong in an `AuthorizationError`: "required",
"metadata", "registration", "denied", "redirect", "token", "refused" or "store") and
`deadline` (which deadline a `TimeoutError` hit: "connect", "request", "initialize",
"close", "sse_idle" or "execution").
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AuthorizationError",
    "CancelledError",
    "ClosedError",
    "ConfigError",
    "ConnectError",
    "Error",
    "HttpStatusError",
    "NetworkError",
    "ProtocolError",
    "RpcError",
    "SessionExpiredError",
    "TimeoutError",
    "TlsError",
]


class Error(Exception):
    """Base class of every error the core raises."""

    kind: str = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        data: Any = None,
        auth_failure: str | None = None,
        deadline: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.data = data
        self.auth_failure = auth_failure
        self.deadline = deadline


class ConfigError(Error, ValueError):
    """The configuration is invalid (a bad URL, a header that is not a header...)."""

    kind = "config"


class ConnectError(Error, ConnectionError):
    """The server could not be reached."""

    kind = "connect"


class TlsError(Error, ConnectionError):
    """The TLS handshake failed (the reason says why)."""

    kind = "tls"


class NetworkError(Error, ConnectionError):
    """The connection broke during an exchange."""

    kind = "network"


class TimeoutError(Error, builtins.TimeoutError):
    """A deadline passed (`deadline` names it)."""

    kind = "timeout"


class SessionExpiredError(Error):
    """The server no longer knows the session, and it could not be re-established."""

    kind = "session_expired"


class HttpStatusError(Error):
    """The server answered with an HTTP error status (`status`)."""

    kind = "http_status"


class ProtocolError(Error):
    """The server broke the protocol (malformed SSE or JSON, an oversize message...)."""

    kind = "protocol"


class RpcError(Error):
    """The server answered with a JSON-RPC error (`code`, `message`, `data`).

    A server-request handler may raise one to answer the server with that error."""

    kind = "rpc"

    def __init__(self, message: str, *, code: int = -32603, data: Any = None, **kw: Any) -> None:
        super().__init__(message, code=code, data=data, **kw)


class CancelledError(Error):
    """The request was cancelled."""

    kind = "cancelled"


class ClosedError(Error):
    """The client or tool is closed (or was never connected)."""

    kind = "closed"


class AuthorizationError(Error, PermissionError):
    """Authorization failed or is needed (`auth_failure` says which step)."""

    kind = "authorization"


_BY_KIND: dict[str, type[Error]] = {
    cls.kind: cls
    for cls in (
        ConfigError,
        ConnectError,
        TlsError,
        NetworkError,
        TimeoutError,
        SessionExpiredError,
        HttpStatusError,
        ProtocolError,
        RpcError,
        CancelledError,
        ClosedError,
        AuthorizationError,
    )
}


def _from_core(kind: str, message: str, fields: dict[str, Any]) -> Error:
    """Builds the exception for an error of the core (called by the native module)."""
    cls = _BY_KIND.get(kind, Error)
    if cls is RpcError:
        return RpcError(message, **fields)
    return cls(message, **fields)
