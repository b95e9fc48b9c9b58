"""A drop-in `MCPStreamableHTTPTool` for Microsoft Agent Framework, carried by mcptool's core.

    from mcptool.agent_framework import MCPStreamableHTTPTool

    tool = MCPStreamableHTTPTool(name="docs", url="http://127.0.0.1:8081/mcp")
    async with tool:
        response = await agent.run("...", tools=[tool])

It subclasses agent-framework's own `MCPStreamableHTTPTool` and takes the same constructor, so
everything the framework does with the tool (function loading, approval, result parsing,
reconnection when a run's headers change, sampling) is unchanged. Only the transport differs:
`get_mcp_client()` returns mcptool's stream pair instead of an httpx2-based one. Each tool
therefore owns one `mcptool.Client` (its own MCP session and its own HTTP connection pool), and
closing the tool closes that client, which ends the session (DELETE) and the pool.

What happens to the constructor's HTTP options, since httpx2 is no longer involved:

- `static_headers` go to the core as `headers` (sent with every request).
- `header_provider(kwargs)` is called through the core's own header provider, with the
  framework's rules for which kwargs it gets (see `_core_headers`).
- `request_timeout` bounds each request in the core as well as in the MCP SDK session.
- `terminate_on_close` decides whether `close()` sends the DELETE.
- `http_client` is refused: an `httpx2.AsyncClient` cannot carry the core's traffic, and
  accepting it silently would drop whatever it was configured with.
- `mcp_client` / `session` are caller-owned connections; they behave exactly as in the stock
  class (the tool neither creates nor closes them).

Ownership is the framework's, unchanged: a tool that an `Agent` connects for a run (one that
was not connected when the run began) joins the Agent's own exit stack and stays connected
until the Agent closes. A service that keeps one Agent and makes a tool per request should
therefore close each tool itself (`async with tool: await agent.run(..., tools=[tool])`), or
its sessions pile up until the Agent closes — with this class as with the stock one.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

_MISSING = [
    name for name in ("agent_framework", "mcp", "tenacity") if importlib.util.find_spec(name) is None
]
if _MISSING:
    raise ModuleNotFoundError(
        "mcptool.agent_framework needs Microsoft Agent Framework with MCP support "
        f"(missing: {', '.join(_MISSING)}); install it with "
        "`pip install 'mcptool[agent-framework]'` (agent-framework-core>=1.23,<2, mcp, tenacity)",
        name=_MISSING[0],
    )

import agent_framework as _af  # noqa: E402

import mcptool  # noqa: E402
from mcptool import _bridge  # noqa: E402

__all__ = ["HttpClientNotSupportedError", "MCPStreamableHTTPTool"]

_StockTool = _af.MCPStreamableHTTPTool

# The stock class's header machinery this module plugs into (agent-framework-core 1.23):
# checked here so that a framework that changed it fails at import, not at a run's connect.
_NEEDED = ("_promote_pending_session_headers", "_bind_session_headers", "_effective_headers")
if missing := [name for name in _NEEDED if not hasattr(_StockTool, name)]:
    raise ImportError(
        "mcptool.agent_framework supports agent-framework-core >=1.23,<2, whose "
        f"MCPStreamableHTTPTool has {', '.join(missing)}; the installed agent-framework "
        f"({getattr(_af, '__version__', 'unknown version')}) does not"
    )

# The stock constructor's defaults, read from the installed framework so that ours never
# drift from them (some are private constants of agent_framework._mcp).
_DEFAULTS: dict[str, Any] = {
    name: parameter.default
    for name, parameter in inspect.signature(_StockTool.__init__).parameters.items()
    if parameter.default is not inspect.Parameter.empty
}


class HttpClientNotSupportedError(ValueError):
    """`http_client=` was given: the core owns the HTTP connections, httpx2 carries nothing."""


class MCPStreamableHTTPTool(_StockTool):  # type: ignore[misc]
    """agent-framework's `MCPStreamableHTTPTool`, with mcptool's core as its transport.

    The constructor is the stock one (see `agent_framework.MCPStreamableHTTPTool`); only
    `http_client` is refused. Every connection the framework opens is a fresh
    `mcptool.Client`, closed when the framework closes the tool (or reconnects it).
    """

    def __init__(
        self,
        name: str,
        url: str | None = None,
        *,
        tool_name_prefix: str | None = None,
        load_tools: bool = True,
        parse_tool_results: Callable[..., Any] | None = None,
        load_prompts: bool = True,
        parse_prompt_results: Callable[..., str] | None = None,
        request_timeout: int | None = None,
        mcp_client: Any = None,
        session: Any = None,
        description: str | None = None,
        approval_mode: Literal["always_require", "never_require"] | Mapping[str, Any] | None = None,
        allowed_tools: Collection[str] | None = None,
        use_progressive_disclosure: bool = False,
        always_load: Collection[str] | None = None,
        terminate_on_close: bool | None = None,
        client: Any = None,
        sampling_approval_callback: Callable[..., Any] | None = None,
        sampling_max_tokens: int | None = _DEFAULTS.get("sampling_max_tokens", 4096),
        sampling_max_requests: int | None = _DEFAULTS.get("sampling_max_requests", 25),
        additional_properties: dict[str, Any] | None = None,
        http_client: Any = None,
        static_headers: Mapping[str, str] | None = None,
        header_provider: Callable[[dict[str, Any]], dict[str, str]] | None = None,
        additional_tool_argument_names: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        task_options: Any = None,
        max_host_payload_size_bytes: int | None = _DEFAULTS.get("max_host_payload_size_bytes", 1 << 20),
        tool_result_content: str = _DEFAULTS.get("tool_result_content", "structured_first"),
        **kwargs: Any,
    ) -> None:
        """Same arguments as the stock class; see its docstring for each.

        Raises `HttpClientNotSupportedError` (a `ValueError`) for `http_client`, before
        anything else, so the mistake shows where the tool is built rather than as traffic
        that silently bypasses the caller's client.
        """
        if http_client is not None:
            raise HttpClientNotSupportedError(
                "mcptool.agent_framework.MCPStreamableHTTPTool does not take `http_client`: "
                "mcptool's Rust core opens and owns each tool's HTTP connections (that is how "
                "close() ends them), so an httpx2.AsyncClient would carry none of its traffic and "
                "its settings would be silently ignored. Use `static_headers` or "
                "`header_provider` for headers and `request_timeout` for timeouts; for a "
                "caller-owned httpx2 client use agent_framework.MCPStreamableHTTPTool instead."
            )
        super().__init__(
            name,
            url,
            tool_name_prefix=tool_name_prefix,
            load_tools=load_tools,
            parse_tool_results=parse_tool_results,
            load_prompts=load_prompts,
            parse_prompt_results=parse_prompt_results,
            request_timeout=request_timeout,
            mcp_client=mcp_client,
            session=session,
            description=description,
            approval_mode=approval_mode,
            allowed_tools=allowed_tools,
            use_progressive_disclosure=use_progressive_disclosure,
            always_load=always_load,
            terminate_on_close=terminate_on_close,
            client=client,
            sampling_approval_callback=sampling_approval_callback,
            sampling_max_tokens=sampling_max_tokens,
            sampling_max_requests=sampling_max_requests,
            additional_properties=additional_properties,
            static_headers=static_headers,
            header_provider=header_provider,
            additional_tool_argument_names=additional_tool_argument_names,
            task_options=task_options,
            max_host_payload_size_bytes=max_host_payload_size_bytes,
            tool_result_content=tool_result_content,
            **kwargs,
        )
        self.mcptool_client: mcptool.Client | None = None
        """The core client of the current connection (None before the first connect)."""

    def get_mcp_client(self) -> AbstractAsyncContextManager[Any]:
        """The stream pair of a new `mcptool.Client` for the framework's `mcp.Client`.

        Called by the framework each time it (re)connects, inside its lifecycle task; leaving
        the returned context (the framework's close or reconnect) closes that client.
        """
        if self.url is None:
            raise RuntimeError(
                "MCPStreamableHTTPTool needs `url` to create a framework-owned connection "
                "(a caller-owned `mcp_client` or `session` never reaches get_mcp_client)."
            )
        # The stock method does this first: a header set staged by a run whose headers
        # differ from the session's becomes the identity of the connection made now.
        self._promote_pending_session_headers()
        forwarder = _bridge.ServerRequestForwarder()
        client = self._new_core_client(forwarder)
        self.mcptool_client = client
        return _bridge.core_streams(client, forwarder=forwarder)

    def _new_core_client(self, forwarder: _bridge.ServerRequestForwarder) -> mcptool.Client:
        """Builds the core client from the tool's options (each one, none dropped).

        Only sampling is forwarded to the framework's session: the stock class gives its
        `mcp.Client` a sampling callback and no elicitation or roots callbacks, so those are
        the capabilities the server is told of, as before."""
        assert self.url is not None
        timeout = float(self.request_timeout) if self.request_timeout is not None else None
        return mcptool.Client(
            self.url,
            headers=dict(self._static_headers) or None,
            header_provider=self._core_headers if self._header_provider is not None else None,
            request_timeout=timeout,
            terminate_on_close=self.terminate_on_close is not False,
            **forwarder.handlers(sampling=True, elicitation=False, roots=False),
        )

    async def _core_headers(self) -> dict[str, str]:
        """The headers of one request of the core, chosen by the stock class's rules.

        An async function, so that the core runs it on the tool's event loop (the stock
        request hook runs there too, and the caller's provider may expect it). In order:

        1. during a tool or prompt call: the headers the stock `call_tool` computed from the
           run's kwargs (`_active_call_headers`, set under its call lock);
        2. otherwise, once the connection has an identity: that identity (`_session_headers`),
           so that pings, list reloads, the GET stream and the DELETE keep the session's
           credentials;
        3. otherwise (the handshake): `header_provider` of the kwargs of the run that opened
           the connection; with no run, of `{}`, where a `KeyError` sends no dynamic headers
           (a run-seeded handshake re-raises it, as the stock class does).

        The first headers sent become the connection's identity, which the framework compares
        with later runs' headers to decide on a reconnect. Static headers are included
        because the identity covers them (the core also sends them itself).
        """
        provider = self._header_provider
        if provider is None:
            return {}
        dynamic = self._active_call_headers
        if dynamic is None and self._session_headers is not None:
            return dict(self._session_headers)
        if dynamic is None:
            dynamic = self._ambient_headers(provider)
        headers = {**self._static_headers, **dynamic}
        if self._session_headers is None:
            self._bind_session_headers(headers)
        return headers

    def _ambient_headers(self, provider: Callable[[dict[str, Any]], dict[str, str]]) -> dict[str, str]:
        """`provider` for a request outside any call: the connecting run's kwargs, or `{}`."""
        seeded = self._connection_kwargs
        try:
            return dict(provider(dict(seeded or {})))
        except KeyError:
            if seeded is not None:
                raise
            return {}

