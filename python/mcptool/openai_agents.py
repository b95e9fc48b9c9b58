"""The OpenAI Agents SDK drop-in: `MCPServerStreamableHttp` over mcptool's Rust core.

    from agents import Agent, Runner
    from mcptool.openai_agents import MCPServerStreamableHttp

    async with MCPServerStreamableHttp({"url": "http://127.0.0.1:8081/mcp"}) as server:
        agent = Agent(name="helper", mcp_servers=[server])
        result = await Runner.run(agent, "Add 2 and 3")

It is the framework's own class (openai-agents 0.24) with the same constructor; only its
transport differs. Each connection is an `mcptool.Client` built from `params`, reached by the
framework's MCP session through `mcptool._bridge.core_streams`, so every server instance owns
its MCP session and its connection pool, and `cleanup()` ends both (the session's DELETE in
the session era). Tool filters, approval, retries, caching, `client_session_timeout_seconds`
and `message_handler` work as in the stock class: they live above the transport.

How `params` reaches the core (an option it cannot honour is refused when the server is
built, with `UnsupportedOptionError`, rather than dropped):

* `url`, `headers`, `terminate_on_close`: as given.
* `timeout` (seconds or a timedelta; 5 by default): the stock class's HTTP timeout for
  connecting and sending, and for the closing DELETE; here `connect_timeout` and
  `close_timeout`.
* `sse_read_timeout` (300 by default): the stock class's read timeout, the longest it waits
  on a response or an event stream; here `request_timeout` and `sse_idle_timeout`. (The
  framework's `client_session_timeout_seconds` still bounds each request above that.)
* `auth`: an `mcptool.OAuth` is used by the core; an httpx `Auth` is refused, because no
  httpx client exists to run it (use `headers` for a static token, or `mcptool.OAuth`).
* `httpx_client_factory`: refused, since the core owns the connection pool (that is what makes
  `cleanup()` end it); put headers in `headers` and TLS and proxy settings in the environment.
* `ignore_initialized_notification_failure`: refused when true, as the stock class does with
  MCP SDK 2; here the SDK's initialized notification never leaves the process anyway.
* Any other key: refused, so that a typo does not go unnoticed.

Server-to-client requests (sampling, elicitation, roots) are forwarded to the framework's MCP
session, which answers them with its callbacks; openai-agents installs none, so the SDK's
"not supported" errors reach the server, as with the stock class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import Any, Final

try:
    from agents.exceptions import UserError
    from agents.mcp import MCPServerStreamableHttp as _StockMCPServerStreamableHttp
    from agents.mcp import MCPServerStreamableHttpParams
except ImportError as error:
    raise ImportError(
        "mcptool.openai_agents needs the OpenAI Agents SDK: install openai-agents 0.24 "
        f"(pip install 'mcptool[openai-agents]'); importing it failed: {error}"
    ) from error

import mcptool
from mcptool._bridge import core_streams
from mcptool.errors import ConfigError

__all__ = ["MCPServerStreamableHttp", "MCPServerStreamableHttpParams", "UnsupportedOptionError", "core_options"]

_DEFAULT_TIMEOUT: Final = 5.0
_DEFAULT_SSE_READ_TIMEOUT: Final = 300.0
_KNOWN_PARAMS: Final = frozenset(
    {
        "url",
        "headers",
        "timeout",
        "sse_read_timeout",
        "terminate_on_close",
        "httpx_client_factory",
        "auth",
        "ignore_initialized_notification_failure",
    }
)


class UnsupportedOptionError(ConfigError, UserError):
    """A `params` entry mcptool's core cannot honour. Both an `mcptool.ConfigError` and the
    framework's `UserError`, the error the stock class raises for an option it refuses."""

    def __init__(self, message: str) -> None:
        ConfigError.__init__(self, message)
        self.run_data = None


def _refuse(option: str, why: str) -> UnsupportedOptionError:
    return UnsupportedOptionError(f"MCPServerStreamableHttp params[{option!r}]: {why}")


def _seconds(params: Mapping[str, Any], option: str, default: float) -> float:
    """A timeout in seconds, as the stock class accepts it (a number or a timedelta)."""
    if option not in params:
        return default
    value = params[option]
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(option, f"expected seconds (a number or a timedelta), got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise _refuse(option, f"expected a positive, finite number of seconds, got {value!r}")
    return float(value)


def core_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """The `mcptool.Client` keywords for the stock class's `params`, or an
    `UnsupportedOptionError` for the first option that would otherwise be lost."""
    unknown = sorted(set(params) - _KNOWN_PARAMS)
    if unknown:
        raise _refuse(unknown[0], f"not an option of MCPServerStreamableHttp (known: {sorted(_KNOWN_PARAMS)})")
    url = params.get("url")
    if not isinstance(url, str) or not url:
        raise _refuse("url", f"expected the server's URL as a string, got {url!r}")
    if params.get("httpx_client_factory") is not None:
        raise _refuse(
            "httpx_client_factory",
            "mcptool's core owns the HTTP connection pool (that is how cleanup() ends it), "
            "so no httpx client is used; pass headers in params['headers'] and remove this option",
        )
    if params.get("ignore_initialized_notification_failure", False):
        raise _refuse(
            "ignore_initialized_notification_failure",
            "not supported with MCP Python SDK 2 (nor needed: the SDK's initialized "
            "notification is answered inside the process); leave it disabled",
        )
    options: dict[str, Any] = {"url": url, "headers": _headers(params.get("headers"))}
    options.update(_auth(params.get("auth")))
    options.update(_timeouts(params))
    terminate = params.get("terminate_on_close", True)
    if not isinstance(terminate, bool):
        raise _refuse("terminate_on_close", f"expected a bool, got {terminate!r}")
    options["terminate_on_close"] = terminate
    return options


def _headers(headers: Any) -> dict[str, str] | None:
    if headers is None:
        return None
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise _refuse("headers", f"expected a mapping of header names to string values, got {headers!r}")
    return dict(headers)


def _auth(auth: Any) -> dict[str, Any]:
    if auth is None:
        return {}
    if isinstance(auth, mcptool.OAuth):
        return {"oauth": auth}
    raise _refuse(
        "auth",
        f"{type(auth).__name__} is an HTTP-client auth hook, and mcptool's core uses no httpx "
        "client to run it; pass a static token as params['headers'] "
        "({'Authorization': 'Bearer ...'}) or an mcptool.OAuth as params['auth']",
    )


def _timeouts(params: Mapping[str, Any]) -> dict[str, float]:
    timeout = _seconds(params, "timeout", _DEFAULT_TIMEOUT)
    read = _seconds(params, "sse_read_timeout", _DEFAULT_SSE_READ_TIMEOUT)
    return {
        "connect_timeout": timeout,
        "close_timeout": timeout,
        "request_timeout": read,
        "sse_idle_timeout": read,
    }


class MCPServerStreamableHttp(_StockMCPServerStreamableHttp):
    """openai-agents' `MCPServerStreamableHttp`, with the same constructor, whose connection
    is an `mcptool.Client`: its own MCP session and connection pool, ended by `cleanup()`.

    `params` options the core cannot honour raise `UnsupportedOptionError` here (see the
    module's docstring for how each option maps); every other argument is the stock class's,
    passed to it unchanged. Each connection, including the isolated session the stock class
    opens to retry a failed call, gets a client of its own, closed with that connection."""

    def __init__(self, params: MCPServerStreamableHttpParams, *args: Any, **kwargs: Any) -> None:
        core_options(params)  # refuse what would be lost now, not at connect()
        super().__init__(params, *args, **kwargs)

    def create_streams(self) -> AbstractAsyncContextManager[Any]:
        """A transport over a new `mcptool.Client` (one per connection, closed with it)."""
        # No server-request handlers: openai-agents installs no sampling, elicitation or
        # roots callbacks, so the client declares none of those capabilities, as the stock
        # class does (declaring them would only invite requests that fail).
        client = mcptool.Client(**core_options(self.params))
        if self.session is None:
            # The main connection (not an isolated retry): `session_id` reads the core's.
            self._get_session_id = _session_id_of(client)
        return core_streams(client)


def _session_id_of(client: mcptool.Client) -> Callable[[], str | None]:
    def session_id() -> str | None:
        return None if client.is_closed else client.session_id

    return session_id
