"""The seam between the `mcp` Python SDK and mcptool's Rust core.

Agent frameworks drive MCP servers through the SDK's session (`mcp.ClientSession` /
`mcp.Client`), which talks JSON-RPC over a *transport*: an async context manager yielding a
pair of anyio memory streams of `SessionMessage`. `core_streams(client)` is such a transport
whose far end is an `mcptool.Client` instead of an HTTP client, so the framework keeps its
session logic while the connection, the MCP session (in the session era), the connection pool
and their shutdown belong to the core: leaving `core_streams` closes the client, which ends
the session (DELETE) and the pool.

What crosses the seam:

* SDK requests become `client.request(method, params)`; the result is written back as the
  JSON-RPC response. An `mcptool.RpcError` keeps its code, message and data; every other
  `mcptool.Error` becomes an error naming the failure (its kind, HTTP status, deadline), so
  the SDK raises a clear `MCPError` rather than waiting. Params that are not JSON are refused
  here, before the core sees them.
* `_meta` keys starting with `io.modelcontextprotocol/` (the SDK's per-request era stamp) are
  removed: the core stamps its own for the era it negotiated. `_meta.progressToken` is removed
  too, because the core allocates progress tokens from its own request ids; instead the
  request gets an `on_progress` callback that writes `notifications/progress` with the SDK's
  token back into the read stream, so the SDK's progress callback fires.
* `notifications/cancelled` from the SDK cancels the task running that request; cancelling
  the awaiting task cancels the core's request, which cancels it on the wire in the way of
  its era. `notifications/initialized` is swallowed (the core sent its own); any other
  notification is passed to `client.notify`.
* Server notifications (`client.next_notification()`) are written into the read stream, so
  `notifications/tools/list_changed` and friends reach the framework, without the 2026-07-28
  era's `_meta` keys (its listen stream's `subscriptionId`), which the legacy dialect the SDK
  speaks here has no use for and which would make it, or a framework, think that a
  `listen()` of its own owns the notification. Progress and
  cancellation notifications are not: the core already routed them to the request they
  belong to, and their ids are the core's, not the SDK's.
* Server-to-client requests (sampling, elicitation, roots) reach the core's `on_sampling` /
  `on_elicitation` / `on_roots` handlers. `ServerRequestForwarder` builds handlers that write
  them into the read stream as JSON-RPC requests and await the SDK's response, so the
  framework's own callbacks answer them.

The handshake dialect: the SDK is always answered in the legacy (session-era) dialect. Its
`server/discover` probe gets "method not found", which makes `mode="auto"` fall back to
`initialize`; `initialize` is answered locally from what the core negotiated (the server's
capabilities, serverInfo and instructions, and its protocol version when the SDK knows it as
a handshake version, else the version the SDK asked for); `notifications/initialized` is
swallowed. The SDK's clientInfo and capabilities stay in the process: the core declared its
own when it connected, and its capabilities follow the handlers the `mcptool.Client` was
given (hence `ServerRequestForwarder.handlers()` choosing which to forward).

Why not mirror a 2026-07-28 server's era in the SDK: in that era the SDK validates each
result against the 2026 schemas, which require `resultType`, part of the era's envelope that
the core has already removed (a 2026 `tools/list` or `tools/call` result from the core fails
that validation, and passes the 2025-11-25 one); its parser has no server-to-client
`sampling/createMessage` (the core resolves the era's input-required rounds itself and calls
the handlers with plain sampling/elicitation/roots requests, which only the legacy dialect
routes to the framework's callbacks); and the SDK keeps no `initialize_result`, which
frameworks read (the OpenAI Agents SDK stores it as `server_initialize_result`). The legacy
dialect gives the SDK one view of every server; the real era stays the core's, on the wire.

`ping` is sent to the server in the session era (`client.ping()`) and answered locally in
the 2026-07-28 era, which has no ping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final, TypeAlias, TypedDict

try:
    import anyio
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from mcp.shared.dispatcher import coerce_request_id
    from mcp.shared.message import SessionMessage
    from mcp_types import (
        CONNECTION_CLOSED,
        INTERNAL_ERROR,
        INVALID_PARAMS,
        METHOD_NOT_FOUND,
        REQUEST_TIMEOUT,
        ErrorData,
        JSONRPCError,
        JSONRPCMessage,
        JSONRPCNotification,
        JSONRPCRequest,
        JSONRPCResponse,
        RequestId,
    )
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION
except ImportError as error:  # pragma: no cover - exercised only without the SDK
    raise ImportError(
        "mcptool's bridge to the MCP Python SDK needs the `mcp` package (version 2); "
        f"install it, or the framework extra that brings it (import failed: {error})"
    ) from error

import mcptool
from mcptool import errors

__all__ = ["ServerRequestForwarder", "ServerRequestHandlers", "core_streams"]

logger = logging.getLogger(__name__)

JsonObject: TypeAlias = dict[str, Any]
ServerRequestHandler: TypeAlias = Callable[[JsonObject], Awaitable[JsonObject]]
ReadStream: TypeAlias = MemoryObjectReceiveStream[SessionMessage | Exception]
WriteStream: TypeAlias = MemoryObjectSendStream[SessionMessage]

ERA_META_PREFIX: Final = "io.modelcontextprotocol/"
"""The SDK's per-request era stamp; the core adds its own, so the SDK's is removed."""

STREAM_BUFFER: Final = 64
"""Messages each stream holds before a sender waits: room for progress notifications, which
are written without waiting (the core calls `on_progress` synchronously)."""

CLOSE_GRACE: Final = 10.0
"""Longest wait, in seconds, for the bridge's own tasks to end once cancelled."""


class ServerRequestHandlers(TypedDict, total=False):
    """The `mcptool.Client` keywords of the server-to-client request handlers."""

    on_sampling: ServerRequestHandler
    on_elicitation: ServerRequestHandler
    on_roots: ServerRequestHandler


_CORE_ROUTED: Final = frozenset({"notifications/progress", "notifications/cancelled"})
"""Server notifications the core has already applied to its own requests."""

_background: set[asyncio.Task[Any]] = set()
"""Close tasks that outlive a cancelled caller: kept referenced so they run to the end."""


def _jsonrpc(message: JSONRPCMessage) -> SessionMessage:
    return SessionMessage(message=message)


def _error_data(error: BaseException, method: str) -> ErrorData:
    """The JSON-RPC error the SDK gets for a failed request.

    An `RpcError` is the server's own answer and passes through. The core's other errors get
    the code the SDK understands for them (a timeout is `REQUEST_TIMEOUT`, a lost or closed
    connection `CONNECTION_CLOSED`, params the core cannot send `INVALID_PARAMS`) and a
    message naming what failed, with the details in `data`."""
    if isinstance(error, errors.RpcError):
        return ErrorData(
            code=error.code if error.code is not None else INTERNAL_ERROR,
            message=error.message,
            data=error.data,
        )
    if isinstance(error, errors.Error):
        return ErrorData(code=_code_of(error), message=_describe(error, method), data=_details(error))
    return ErrorData(
        code=INTERNAL_ERROR,
        message=f"mcptool bridge: {method} failed: {type(error).__name__}: {error}",
    )


def _code_of(error: errors.Error) -> int:
    if isinstance(error, errors.TimeoutError):
        return REQUEST_TIMEOUT
    if isinstance(
        error,
        errors.ConnectError
        | errors.NetworkError
        | errors.ClosedError
        | errors.CancelledError
        | errors.SessionExpiredError,
    ):
        return CONNECTION_CLOSED
    if isinstance(error, errors.ConfigError):
        return INVALID_PARAMS
    return INTERNAL_ERROR


def _describe(error: errors.Error, method: str) -> str:
    parts = [f"mcptool: {method} failed ({error.kind}"]
    if error.status is not None:
        parts.append(f", HTTP {error.status}")
    if error.deadline is not None:
        parts.append(f", {error.deadline} deadline")
    return "".join(parts) + f"): {error.message}"


def _details(error: errors.Error) -> JsonObject:
    fields = {
        "kind": error.kind,
        "status": error.status,
        "deadline": error.deadline,
        "auth_failure": error.auth_failure,
    }
    return {key: value for key, value in fields.items() if value is not None}


def _outbound_params(method: str, params: Mapping[str, Any] | None) -> tuple[JsonObject | None, Any]:
    """The params to give the core, and the SDK's progress token (None when it wants none).

    Raises `RpcError(INVALID_PARAMS)` when the params are not JSON: the core could not send
    them, and the SDK should say so instead of the core failing obscurely."""
    if params is None:
        return None, None
    out = dict(params)
    token = None
    meta = out.pop("_meta", None)
    if isinstance(meta, Mapping):
        token = meta.get("progressToken")
        if isinstance(token, bool) or not isinstance(token, str | int):
            token = None
        kept = {
            key: value
            for key, value in meta.items()
            if key != "progressToken" and not str(key).startswith(ERA_META_PREFIX)
        }
        if kept:
            out["_meta"] = kept
    elif meta is not None:
        out["_meta"] = meta
    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise errors.RpcError(
            f"mcptool: the params of {method} are not JSON, so they cannot be sent: {error}",
            code=INVALID_PARAMS,
        ) from None
    return out, token


class _Bridge:
    """One transport's state: the client, both streams, and the tasks between them."""

    def __init__(
        self,
        client: mcptool.Client,
        initialized: JsonObject | None,
        to_sdk: MemoryObjectSendStream[SessionMessage | Exception],
        from_sdk: MemoryObjectReceiveStream[SessionMessage],
    ) -> None:
        self.client = client
        self.loop = asyncio.get_running_loop()
        self._initialized = initialized
        self._to_sdk = to_sdk
        self._from_sdk = from_sdk
        self._requests: dict[RequestId, asyncio.Task[None]] = {}
        self._waiting: dict[str, asyncio.Future[JsonObject | ErrorData]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)
        self._closed = False

    # ---- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._spawn(self._read_sdk(), "mcptool bridge: SDK messages")
        self._spawn(self._pump_notifications(), "mcptool bridge: server notifications")

    async def stop(self) -> None:
        """Ends every request in flight (cancelling the core's) and closes both streams."""
        self._closed = True
        self._fail_waiting("the MCP client session closed before answering")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            with anyio.CancelScope(shield=True):
                await asyncio.wait(tasks, timeout=CLOSE_GRACE)
        self._to_sdk.close()
        self._from_sdk.close()

    def _spawn(self, work: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- writing to the SDK -------------------------------------------------------------

    async def _send(self, message: JSONRPCMessage) -> bool:
        """Writes into the SDK's read stream; False when the SDK has stopped reading."""
        try:
            await self._to_sdk.send(_jsonrpc(message))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            logger.debug("dropped %s: the SDK session is gone", type(message).__name__)
            return False
        return True

    def _send_nowait(self, message: JSONRPCMessage) -> None:
        """Writes without waiting (from synchronous callbacks); drops the message when the
        stream is full or closed, which only progress and cancel notifications risk."""
        try:
            self._to_sdk.send_nowait(_jsonrpc(message))
        except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
            logger.debug("dropped %s: the SDK is not reading", type(message).__name__)

    # ---- reading from the SDK -----------------------------------------------------------

    async def _read_sdk(self) -> None:
        try:
            async for item in self._from_sdk:
                self._dispatch(item)
        except anyio.ClosedResourceError:
            pass
        # The SDK closed its end: nobody will read answers any more, so stop the core's work.
        self._sdk_gone()

    def _dispatch(self, item: object) -> None:
        if not isinstance(item, SessionMessage):
            logger.warning("mcptool bridge: ignored %r written to the transport", type(item).__name__)
            return
        message = item.message
        if isinstance(message, JSONRPCRequest):
            self._start_request(message)
        elif isinstance(message, JSONRPCNotification):
            self._on_sdk_notification(message)
        elif isinstance(message, JSONRPCResponse):
            self._settle(message.id, message.result)
        elif isinstance(message, JSONRPCError):
            self._settle(message.id, message.error)

    def _sdk_gone(self) -> None:
        for task in list(self._requests.values()):
            task.cancel()
        self._fail_waiting("the MCP client session ended before answering")

    # ---- SDK requests -------------------------------------------------------------------

    def _start_request(self, request: JSONRPCRequest) -> None:
        key = coerce_request_id(request.id)
        task = self._spawn(self._answer(request), f"mcptool bridge: {request.method}")
        self._requests[key] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self._requests.get(key) is done:
                del self._requests[key]

        task.add_done_callback(forget)

    async def _answer(self, request: JSONRPCRequest) -> None:
        try:
            result = await self._handle(request.method, request.params)
        except asyncio.CancelledError:
            # Cancelled by the SDK (it stopped waiting) or by closing (the read stream ends,
            # which fails the SDK's waiters): either way no answer is due.
            raise
        except Exception as error:  # every failure becomes an answer: the SDK must not hang
            if not isinstance(error, errors.Error):
                logger.exception("mcptool bridge: %s failed", request.method)
            await self._send(JSONRPCError(jsonrpc="2.0", id=request.id, error=_error_data(error, request.method)))
        else:
            await self._send(JSONRPCResponse(jsonrpc="2.0", id=request.id, result=result))

    async def _handle(self, method: str, params: Mapping[str, Any] | None) -> JsonObject:
        if method == "initialize":
            return self._initialize_result(params or {})
        if method == "server/discover":
            raise errors.RpcError(
                "mcptool bridge: server/discover is not offered here; the core already "
                "negotiated with the server, so initialize instead",
                code=METHOD_NOT_FOUND,
            )
        if method == "ping":
            if self._session_era():
                await self.client.ping()
            return {}
        out, token = _outbound_params(method, params)
        on_progress = self._progress_forwarder(token) if token is not None else None
        result = await self.client.request(method, out, on_progress=on_progress)
        return dict(result) if result is not None else {}

    def _session_era(self) -> bool:
        return self.client.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS

    def _initialize_result(self, params: Mapping[str, Any]) -> JsonObject:
        """The SDK's `initialize`, answered from what the core negotiated with the server."""
        known = self._initialized or _initialize_shaped(self.client.server_info)
        version = self.client.protocol_version
        if version not in HANDSHAKE_PROTOCOL_VERSIONS:
            asked = params.get("protocolVersion")
            version = asked if asked in HANDSHAKE_PROTOCOL_VERSIONS else LATEST_HANDSHAKE_VERSION
        server_info = known.get("serverInfo")
        if not isinstance(server_info, Mapping) or "name" not in server_info:
            server_info = {"name": "mcptool", "version": mcptool.__version__}
        result: JsonObject = {
            "protocolVersion": version,
            "capabilities": dict(known.get("capabilities") or {}),
            "serverInfo": dict(server_info),
        }
        if isinstance(known.get("instructions"), str):
            result["instructions"] = known["instructions"]
        return result

    def _progress_forwarder(self, token: Any) -> Callable[[JsonObject], None]:
        """An `on_progress` for the core that hands progress to the SDK under its token.

        The core may call it from another thread, so the write is scheduled on the loop."""

        def forward(progress: JsonObject) -> None:
            params: JsonObject = {"progressToken": token, "progress": progress.get("progress", 0)}
            for field in ("total", "message"):
                if progress.get(field) is not None:
                    params[field] = progress[field]
            note = JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params=params)
            if self._closed:
                return
            try:
                self.loop.call_soon_threadsafe(self._send_nowait, note)
            except RuntimeError:  # the loop is closed: nobody is left to tell
                pass

        return forward

    # ---- SDK notifications --------------------------------------------------------------

    def _on_sdk_notification(self, note: JSONRPCNotification) -> None:
        if note.method == "notifications/initialized":
            return
        if note.method == "notifications/cancelled":
            request_id = (note.params or {}).get("requestId")
            if isinstance(request_id, str | int) and not isinstance(request_id, bool):
                task = self._requests.get(coerce_request_id(request_id))
                if task is not None:
                    task.cancel()
            return
        self._spawn(self._notify(note.method, note.params), f"mcptool bridge: {note.method}")

    async def _notify(self, method: str, params: Mapping[str, Any] | None) -> None:
        try:
            out, _ = _outbound_params(method, params)
            await self.client.notify(method, out)
        except errors.Error as error:
            # A notification has no answer to carry the failure; the log is all there is.
            logger.warning("mcptool bridge: could not send %s: %s", method, error)

    # ---- server notifications -----------------------------------------------------------

    async def _pump_notifications(self) -> None:
        while True:
            try:
                note = await self.client.next_notification()
            except errors.Error as error:
                logger.debug("mcptool bridge: notifications ended: %s", error)
                return
            if note is None:
                break
            method = note.get("method")
            if not isinstance(method, str) or method in _CORE_ROUTED:
                continue
            message = JSONRPCNotification(jsonrpc="2.0", method=method, params=_legacy_params(note.get("params")))
            if not await self._send(message):
                return
        # The client closed under the SDK: end its read stream so its waiters fail now.
        if not self._closed:
            self._sdk_gone()
            self._to_sdk.close()

    # ---- server-to-client requests ------------------------------------------------------

    async def ask_sdk(self, method: str, params: JsonObject) -> JsonObject:
        """Sends a server request to the SDK and returns its answer (an `RpcError` when it
        answered with an error, or is gone)."""
        if self._closed:
            raise errors.RpcError(f"mcptool bridge: no MCP client session to answer {method}")
        request_id = f"mcptool-{next(self._ids)}"
        waiter: asyncio.Future[JsonObject | ErrorData] = self.loop.create_future()
        self._waiting[request_id] = waiter
        try:
            request = JSONRPCRequest(jsonrpc="2.0", id=request_id, method=method, params=params)
            if not await self._send(request):
                raise errors.RpcError(f"mcptool bridge: the MCP client session is gone; {method} unanswered")
            outcome = await waiter
        except asyncio.CancelledError:
            # The core gave up on the request (the server cancelled it, or closing).
            cancel = {"requestId": request_id, "reason": "cancelled by the server"}
            self._send_nowait(JSONRPCNotification(jsonrpc="2.0", method="notifications/cancelled", params=cancel))
            raise
        finally:
            self._waiting.pop(request_id, None)
        if isinstance(outcome, ErrorData):
            raise errors.RpcError(outcome.message, code=outcome.code, data=outcome.data)
        return outcome

    def _settle(self, request_id: RequestId | None, outcome: JsonObject | ErrorData) -> None:
        waiter = self._waiting.get(str(request_id)) if request_id is not None else None
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)

    def _fail_waiting(self, reason: str) -> None:
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(errors.RpcError(f"mcptool bridge: {reason}"))


def _legacy_params(params: Any) -> JsonObject | None:
    """A server notification's params in the legacy dialect the SDK speaks here: without the
    2026-07-28 era's `_meta` keys (a `subscriptionId` would tell the SDK, or a framework's
    handler, that a `listen()` stream it never opened owns the notification)."""
    if not isinstance(params, Mapping):
        return None
    out = dict(params)
    meta = out.pop("_meta", None)
    if isinstance(meta, Mapping):
        kept = {key: value for key, value in meta.items() if not str(key).startswith(ERA_META_PREFIX)}
        if kept:
            out["_meta"] = kept
    elif meta is not None:
        out["_meta"] = meta
    return out


def _initialize_shaped(server_info: Mapping[str, Any] | None) -> JsonObject:
    """`client.server_info` as an initialize result: the whole result, or only serverInfo."""
    if not server_info:
        return {}
    if "capabilities" in server_info or "serverInfo" in server_info:
        return dict(server_info)
    return {"serverInfo": dict(server_info)}


class ServerRequestForwarder:
    """Answers the core's server-to-client requests with the SDK session's callbacks.

    Give `handlers()` to the `mcptool.Client` (they are fixed at construction) and the same
    forwarder to `core_streams`, which attaches it to the transport:

        forwarder = ServerRequestForwarder()
        client = mcptool.Client(url, **forwarder.handlers())
        async with mcp.Client(core_streams(client, forwarder=forwarder), ...) as session: ...

    A request that arrives while no transport is attached is answered with an error, never
    left waiting. Passing a handler makes the core declare that capability to the server, so
    pass only the kinds the framework's session can answer (`sampling`, `elicitation`,
    `roots` select them)."""

    def __init__(self) -> None:
        self._bridge: _Bridge | None = None

    def handlers(
        self, *, sampling: bool = True, elicitation: bool = True, roots: bool = True
    ) -> ServerRequestHandlers:
        """`on_sampling` / `on_elicitation` / `on_roots` keywords for `mcptool.Client`."""
        handlers = ServerRequestHandlers()
        if sampling:
            handlers["on_sampling"] = self._handler("sampling/createMessage")
        if elicitation:
            handlers["on_elicitation"] = self._handler("elicitation/create")
        if roots:
            handlers["on_roots"] = self._handler("roots/list")
        return handlers

    def _handler(self, method: str) -> ServerRequestHandler:
        async def handle(params: JsonObject) -> JsonObject:
            return await self.forward(method, params)

        handle.__name__ = f"forward_{method.replace('/', '_')}"
        return handle

    async def forward(self, method: str, params: JsonObject) -> JsonObject:
        """Sends `method` to the attached SDK session and returns its result."""
        bridge = self._bridge
        if bridge is None:
            raise errors.RpcError(f"mcptool bridge: no MCP client session is attached to answer {method}")
        if _running_loop() is bridge.loop:
            return await bridge.ask_sdk(method, params)
        # The core may run the handler on a loop of its own: the SDK's streams live on theirs.
        future = asyncio.run_coroutine_threadsafe(bridge.ask_sdk(method, params), bridge.loop)
        return await asyncio.wrap_future(future)

    def _attach(self, bridge: _Bridge) -> None:
        if self._bridge is not None:
            raise RuntimeError("this ServerRequestForwarder already serves another transport")
        self._bridge = bridge

    def _detach(self, bridge: _Bridge) -> None:
        if self._bridge is bridge:
            self._bridge = None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@asynccontextmanager
async def core_streams(
    client: mcptool.Client, *, forwarder: ServerRequestForwarder | None = None
) -> AsyncIterator[tuple[ReadStream, WriteStream]]:
    """A transport for the `mcp` SDK whose far end is `client`.

    Connects `client` if it is not connected, yields `(read_stream, write_stream)` for
    `mcp.Client(...)` / `ClientSession(...)`, and on exit closes `client`, ending its session
    and its connection pool with the transport (even when the exit is a cancellation). When
    connecting fails, the client is closed and the core's error propagates.
    `forwarder`, when given, must be the one whose `handlers()` the client was built with."""
    initialized = await _connect(client)
    to_sdk, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](STREAM_BUFFER)
    write_stream, from_sdk = anyio.create_memory_object_stream[SessionMessage](STREAM_BUFFER)
    bridge = _Bridge(client, initialized, to_sdk, from_sdk)
    if forwarder is not None:
        forwarder._attach(bridge)
    try:
        bridge.start()
        yield read_stream, write_stream
    finally:
        try:
            if forwarder is not None:
                forwarder._detach(bridge)
            await bridge.stop()
        finally:
            read_stream.close()
            write_stream.close()
            await _close(client)


async def _connect(client: mcptool.Client) -> JsonObject | None:
    """Connects `client` unless it is; the initialize-shaped result when this connected it."""
    if client.is_connected:
        return None
    try:
        return dict(await client.connect())
    except BaseException:
        await _close(client)
        raise


async def _close(client: mcptool.Client) -> None:
    """Closes `client` to the end, even when the caller is being cancelled: a cancelled close
    would leave the server's session and the pool's connections open."""
    task = asyncio.ensure_future(client.close())
    _background.add(task)
    task.add_done_callback(_background.discard)
    task.add_done_callback(_log_close_failure)
    with anyio.CancelScope(shield=True):
        await asyncio.wait([task])


def _log_close_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("mcptool bridge: closing the client failed: %s", task.exception())
