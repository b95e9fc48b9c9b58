"""Type stubs of the Rust core (`mcptool._native`). Import from `mcptool`, not from here."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

from typing_extensions import Self  # in typing only from 3.11; stubs may always use it

JsonObject = dict[str, Any]
Headers = Mapping[str, str]
HeaderProvider = Callable[[], Headers | Awaitable[Headers]]
"""Called before every request (initialize, calls, notifications, the GET stream, DELETE); an
async function or a plain one. What it raises fails that request with a `ConfigError`."""
ServerRequestHandler = Callable[[JsonObject], Awaitable[JsonObject]]
"""Answers a server→client request (sampling, elicitation, roots): gets its `params`, returns
its result. A raised `mcptool.RpcError` becomes that JSON-RPC error; anything else -32603."""
Approver = Callable[[JsonObject], Awaitable[bool | str] | bool | str]
"""Gets `{"function", "mcp_name", "arguments"}`; True allows the call, False or a string (the
reason, shown to the model) denies it."""
ProgressCallback = Callable[[JsonObject], None]
"""Gets `{"progress", "total", "message"}` for each progress notification of the request."""
Protocol = Literal["auto", "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "sessions"]
"""`auto` probes `server/discover` and falls back to `initialize` (the default); `2026-07-28`
speaks only the stateless era; a dated session-era version or `sessions` only the session era."""
ApprovalMode = (
    Literal["never_require", "always_require"] | Mapping[str, Sequence[str]]
)  # {"always_require_approval": [...], "never_require_approval": [...]}

class OAuth:
    """OAuth 2.1 for a protected server: discovery, the flow, tokens and refresh all in the core.
    A `Client` or `Tool` given one keeps its tokens to itself (a store of its own)."""

    @staticmethod
    def client_credentials(
        client_id: str,
        *,
        client_secret: str | None = None,
        private_key_pem: str | bytes | None = None,
        scopes: Sequence[str] | None = None,
        issuer: str | None = None,
    ) -> OAuth: ...
    @staticmethod
    def authorization_code(
        authorize: Callable[[str], Awaitable[str]],
        *,
        redirect_uri: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: Sequence[str] | None = None,
        client_metadata_url: str | None = None,
    ) -> OAuth:
        """`authorize(url)` sends the user to the authorization URL and returns the full
        redirect URL they came back with."""
    @staticmethod
    def browser(*, scopes: Sequence[str] | None = None, client_id: str | None = None) -> OAuth:
        """The system browser and a loopback redirect on 127.0.0.1."""

class Client:
    """One MCP connection: its own session (when the era has one) and its own connection pool.
    `close()` ends both. Build with `Client(url, ...)`, then `await connect()` (or `async with`);
    a request before that raises `ClosedError`."""

    def __init__(
        self,
        url: str,
        *,
        headers: Headers | None = None,
        header_provider: HeaderProvider | None = None,
        bearer_token: str | None = None,
        oauth: OAuth | None = None,
        protocol: Protocol = "auto",
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        close_timeout: float | None = None,
        sse_idle_timeout: float | None = None,
        terminate_on_close: bool = True,
        standalone_stream: bool | None = None,
        max_message_bytes: int | None = None,
        client_name: str | None = None,
        client_version: str | None = None,
        on_sampling: ServerRequestHandler | None = None,
        on_elicitation: ServerRequestHandler | None = None,
        on_roots: ServerRequestHandler | None = None,
    ) -> None: ...
    async def connect(self) -> JsonObject:
        """Opens the connection (initialize or server/discover); returns the server's
        initialize-shaped result (`protocolVersion`, `capabilities`, `serverInfo`, ...)."""
    async def close(self) -> JsonObject:
        """Ends the session (DELETE in the session era), the streams and the pool. Idempotent.
        Returns `{"outcome": ...}`: "deleted", "delete_not_allowed", "not_terminated",
        "no_session", "stateless" or "already_closed"."""
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    @property
    def url(self) -> str: ...
    @property
    def is_connected(self) -> bool: ...
    @property
    def is_closed(self) -> bool: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def protocol_version(self) -> str | None: ...
    @property
    def server_info(self) -> JsonObject | None: ...
    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> JsonObject:
        """Any request; the result object as the server sent it, minus what only its era put
        there (`resultType`, `io.modelcontextprotocol/` keys of `_meta`). A JSON-RPC error
        raises `RpcError` with its `code` and `data`."""
    async def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None: ...
    async def next_notification(self) -> JsonObject | None:
        """The next server notification (`{"method", "params"}`), or None once closed.
        Notifications are kept from the first call on (from construction with
        `standalone_stream=True`), up to the core's buffer; a slow reader loses the oldest."""
    async def ping(self) -> None: ...
    async def list_tools(self) -> list[JsonObject]: ...
    async def list_prompts(self) -> list[JsonObject]: ...
    async def list_resources(self) -> list[JsonObject]: ...
    async def list_resource_templates(self) -> list[JsonObject]: ...
    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> JsonObject:
        """The `CallToolResult` as sent (`content`, `structuredContent`, `isError`, `_meta`)."""
    async def get_prompt(self, name: str, arguments: Mapping[str, str] | None = None) -> JsonObject: ...
    async def read_resource(self, uri: str) -> JsonObject: ...
    async def set_logging_level(self, level: str) -> None: ...

class Tool:
    """The agent tool: a `Client` plus the server's tools (and prompts) as functions for a model,
    with approval, argument checks, timeouts and result conversion. One per agent run."""

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        description: str | None = None,
        load_tools: bool = True,
        load_prompts: bool = True,
        allowed_tools: Sequence[str] | None = None,
        tool_name_prefix: str | None = None,
        approval_mode: ApprovalMode | None = None,
        approver: Approver | None = None,
        execution_timeout: float | None = None,
        headers: Headers | None = None,
        header_provider: HeaderProvider | None = None,
        bearer_token: str | None = None,
        oauth: OAuth | None = None,
        protocol: Protocol = "auto",
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        close_timeout: float | None = None,
        sse_idle_timeout: float | None = None,
        terminate_on_close: bool = True,
        max_message_bytes: int | None = None,
        on_sampling: ServerRequestHandler | None = None,
        on_elicitation: ServerRequestHandler | None = None,
        on_roots: ServerRequestHandler | None = None,
    ) -> None: ...
    async def connect(self) -> None: ...
    async def close(self) -> JsonObject: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def url(self) -> str: ...
    @property
    def is_connected(self) -> bool: ...
    @property
    def session_id(self) -> str | None: ...
    @property
    def client(self) -> Client | None:
        """The connected client (shares the tool's session and pool), or None."""
    def functions(self) -> list[JsonObject]:
        """`{"name", "mcp_name", "kind": "tool"|"prompt", "description", "parameters",
        "output_schema", "annotations"}` for each function."""
    def openai_tools(self) -> list[JsonObject]: ...
    def openai_responses_tools(self) -> list[JsonObject]: ...
    def anthropic_tools(self) -> list[JsonObject]: ...
    async def invoke(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> JsonObject:
        """Calls a function: `{"kind": "success"|"tool_error"|"denied"|"invalid_arguments"|...,
        "is_error", "text", "content", "structuredContent", "_meta", "messages"}`."""
__version__: str
