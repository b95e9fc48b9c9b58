"""The bridge (`mcptool._bridge.core_streams`) under the plain `mcp` SDK: the SDK's session
drives a real `mcptool serve` through the Rust core, and each test checks what the caller got
and what the server saw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp
import mcp_types
import pytest
from conftest import Served
from mcp.client.session import ClientRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from support import BOUND, cancelled, idle, plain_http_server, stats_when, wait_until

import mcptool
from mcptool._bridge import ServerRequestForwarder, core_streams


def sdk(
    client: mcptool.Client, forwarder: ServerRequestForwarder | None = None, **options: Any
) -> mcp.Client:
    """The SDK's client over the bridge, as a framework builds it (mode "auto", no cache)."""
    return mcp.Client(core_streams(client, forwarder=forwarder), cache=None, **options)


async def tool_names(session: mcp.Client) -> set[str]:
    """Every tool's name, page after page (the server paginates its list)."""
    names: set[str] = set()
    cursor: str | None = None
    while True:
        page = await session.list_tools(cursor=cursor)
        names |= {tool.name for tool in page.tools}
        cursor = page.next_cursor
        if cursor is None:
            return names


def text_of(result: mcp_types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, mcp_types.TextContent))


# ---- the basics, in both eras ---------------------------------------------------------------


async def test_list_and_call_in_each_era(era_server: Served) -> None:
    core = mcptool.Client(era_server.url)
    async with sdk(core) as session:
        names = await tool_names(session)
        echoed = await session.call_tool("echo", {"message": "through the bridge"})
        added = await session.call_tool("add", {"a": 2, "b": 3})
        era = core.protocol_version
    assert {"echo", "add", "sleep", "whoami", "toggle_tools"} <= names
    assert text_of(echoed) == "through the bridge"
    assert added.structured_content == {"sum": 5.0}
    assert core.is_closed
    stats = await stats_when(era_server, lambda s: idle(s) and s["sessions_live"] == 0)
    if era == "2026-07-28":
        assert stats["stateless_requests"] > 0
        assert stats["sessions_opened"] == 0
    else:
        assert stats["sessions_opened"] == 1
        assert stats["sessions_deleted"] == 1
    assert stats["methods"].get("tools/call") == 2
    assert idle(stats), stats


async def test_sdk_handshake_is_answered_in_process(era_server: Served) -> None:
    core = mcptool.Client(era_server.url)
    async with sdk(core) as session:
        initialized = session.session.initialize_result
        version = session.protocol_version
        name = session.server_info.name if session.server_info else None
        methods = era_server.stats()["methods"]
    # The SDK took the legacy handshake (its server/discover probe was refused locally) ...
    assert initialized is not None
    assert version in HANDSHAKE_PROTOCOL_VERSIONS
    assert name == (core.server_info or {}).get("serverInfo", {}).get("name")
    # ... and none of it reached the server: what the server saw is the core's handshake only.
    assert methods.get("server/discover") == 1
    if core.protocol_version == "2026-07-28":
        assert "initialize" not in methods
    else:
        assert methods.get("initialize") == 1
        assert methods.get("notifications/initialized") == 1


async def test_already_connected_client_is_used_and_closed(server: Served) -> None:
    core = mcptool.Client(server.url)
    await core.connect()
    async with sdk(core) as session:
        result = await session.call_tool("echo", {"message": "reused"})
        assert session.session.initialize_result is not None
    assert text_of(result) == "reused"
    assert core.is_closed
    stats = await stats_when(server, idle)
    assert stats["sessions_opened"] == stats["sessions_deleted"]
    assert idle(stats), stats


async def test_ping_in_each_era(era_server: Served) -> None:
    core = mcptool.Client(era_server.url)
    async with sdk(core) as session:
        await session.session.send_ping()
        era = core.protocol_version
    methods = era_server.stats()["methods"]
    if era == "2026-07-28":
        assert "ping" not in methods  # the stateless era has no ping: answered locally
    else:
        assert methods.get("ping") == 1


async def test_rpc_error_keeps_the_servers_code_and_message(server: Served) -> None:
    core = mcptool.Client(server.url)
    async with mcptool.Client(server.url) as direct:
        with pytest.raises(mcptool.RpcError) as expected:
            await direct.request("prompts/get", {"name": "no-such-prompt"})
    async with sdk(core) as session:
        with pytest.raises(MCPError) as raised:
            await session.get_prompt("no-such-prompt")
    assert raised.value.code == expected.value.code
    assert raised.value.message == expected.value.message


async def test_a_large_result_crosses_the_bridge(server: Served) -> None:
    async with sdk(mcptool.Client(server.url)) as session:
        result = await asyncio.wait_for(session.call_tool("big", {"bytes": 1_000_000}), BOUND)
    body = text_of(result)
    assert len(body) == 1_000_000
    assert body.startswith("abcdefghijklmnopqrstuvwxyz\n")


async def test_tool_error_is_a_result_not_an_exception(server: Served) -> None:
    async with sdk(mcptool.Client(server.url)) as session:
        result = await session.call_tool("fail", {})
    assert result.is_error is True
    assert "always fails" in text_of(result)


# ---- progress, notifications, cancellation ------------------------------------------------


async def test_progress_reaches_the_sdk_callback(era_server: Served) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with sdk(mcptool.Client(era_server.url)) as session:
        result = await session.call_tool("sleep", {"ms": 300, "steps": 3}, progress_callback=progress)
    assert text_of(result) == "slept 300 ms"
    assert [value for value, _, _ in seen] == [1.0, 2.0, 3.0]
    assert {total for _, total, _ in seen} == {3.0}


async def test_list_changed_reaches_the_message_handler(era_server: Served) -> None:
    changed = asyncio.Event()
    metas: list[dict[str, Any]] = []

    async def handler(message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            metas.append(dict(getattr(message.params, "meta", None) or {}))
            changed.set()

    async with sdk(mcptool.Client(era_server.url), message_handler=handler) as session:
        await session.list_tools()
        await session.call_tool("toggle_tools", {})
        await asyncio.wait_for(changed.wait(), BOUND)
        names = await tool_names(session)
    assert "extra" in names
    # No 2026-07-28 era keys (the listen stream's subscriptionId) in the legacy dialect.
    assert not [key for meta in metas for key in meta if key.startswith("io.modelcontextprotocol/")], metas


async def test_cancelling_the_caller_cancels_on_the_wire(era_server: Served) -> None:
    async with sdk(mcptool.Client(era_server.url)) as session:
        call = asyncio.create_task(session.call_tool("sleep", {"ms": 20_000}))
        await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, BOUND)
        stats = await stats_when(era_server, lambda s: cancelled(s) >= 1, timeout=BOUND)
        assert cancelled(stats) >= 1
        # The session is still usable after the cancellation.
        result = await session.call_tool("echo", {"message": "still here"})
    assert text_of(result) == "still here"
    assert idle(await stats_when(era_server, idle))


async def test_sdk_read_timeout_cancels_on_the_wire(era_server: Served) -> None:
    async with sdk(mcptool.Client(era_server.url)) as session:
        with pytest.raises(MCPError) as raised:
            await asyncio.wait_for(
                session.call_tool("sleep", {"ms": 20_000}, read_timeout_seconds=0.5), BOUND
            )
        stats = await stats_when(era_server, lambda s: cancelled(s) >= 1, timeout=BOUND)
    assert raised.value.code == mcp_types.REQUEST_TIMEOUT
    assert cancelled(stats) >= 1


# ---- server-to-client requests ------------------------------------------------------------


async def test_server_requests_are_answered_by_the_sdk_callbacks(era_server: Served) -> None:
    asked: list[str] = []

    async def elicit(ctx: ClientRequestContext, params: Any) -> mcp_types.ElicitResult:
        asked.append(params.message)
        return mcp_types.ElicitResult(action="accept", content={"answer": "forty-two"})

    async def sample(ctx: ClientRequestContext, params: Any) -> mcp_types.CreateMessageResult:
        return mcp_types.CreateMessageResult(
            role="assistant",
            content=mcp_types.TextContent(type="text", text="sampled by the SDK"),
            model="scripted",
        )

    async def roots(ctx: ClientRequestContext) -> mcp_types.ListRootsResult:
        return mcp_types.ListRootsResult(roots=[mcp_types.Root.model_validate({"uri": "file:///work", "name": "work"})])

    forwarder = ServerRequestForwarder()
    core = mcptool.Client(era_server.url, **forwarder.handlers())
    callbacks: dict[str, Any] = {
        "elicitation_callback": elicit,
        "sampling_callback": sample,
        "list_roots_callback": roots,
    }
    async with sdk(core, forwarder, **callbacks) as session:
        answer = await asyncio.wait_for(session.call_tool("ask", {"question": "The answer?"}), BOUND)
        sampled = await asyncio.wait_for(session.call_tool("sample", {"prompt": "hi"}), BOUND)
        listed = await asyncio.wait_for(session.call_tool("roots", {}), BOUND)
    assert asked == ["The answer?"]
    assert text_of(answer) == "forty-two"
    assert "sampled by the SDK" in text_of(sampled)
    assert "file:///work" in text_of(listed)


async def test_sdk_without_callbacks_refuses_server_requests(server: Served) -> None:
    forwarder = ServerRequestForwarder()
    core = mcptool.Client(server.url, **forwarder.handlers())
    async with sdk(core, forwarder) as session:
        outcome: Any
        try:
            outcome = text_of(await asyncio.wait_for(session.call_tool("ask", {"question": "?"}), BOUND))
        except MCPError as error:
            outcome = error.message
    assert "not supported" in outcome.lower()


async def test_forwarder_without_a_transport_answers_an_error() -> None:
    forwarder = ServerRequestForwarder()
    handlers = forwarder.handlers(sampling=True, elicitation=False, roots=False)
    assert set(handlers) == {"on_sampling"}
    with pytest.raises(mcptool.RpcError, match="no MCP client session"):
        await asyncio.wait_for(handlers["on_sampling"]({"messages": []}), BOUND)


# ---- failures: each is a clear error, never a hang, and nothing stays open ------------------


async def test_not_an_mcp_server_is_a_clear_error() -> None:
    with plain_http_server() as web:
        core = mcptool.Client(web.url, connect_timeout=5, request_timeout=5)
        with pytest.raises(mcptool.Error) as raised:
            async with sdk(core):
                pass  # pragma: no cover - connecting fails
        await asyncio.to_thread(wait_until, lambda: web.open_connections == 0)
        left_open = web.open_connections
    assert core.is_closed
    assert web.requests, "the core never reached the server"
    assert isinstance(raised.value, mcptool.HttpStatusError | mcptool.ProtocolError), raised.value
    assert left_open == 0


async def test_server_killed_mid_call_fails_the_call(era_server: Served) -> None:
    core = mcptool.Client(era_server.url, request_timeout=30)
    async with sdk(core) as session:
        call = asyncio.create_task(session.call_tool("sleep", {"ms": 20_000}))
        await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
        await asyncio.to_thread(era_server.stop)
        with pytest.raises(MCPError) as raised:
            await asyncio.wait_for(call, BOUND)
    assert raised.value.message.startswith("mcptool: tools/call failed")
    assert core.is_closed


async def test_closing_the_session_ends_calls_in_flight(era_server: Served) -> None:
    core = mcptool.Client(era_server.url)
    async with sdk(core) as session:
        call = asyncio.create_task(session.call_tool("sleep", {"ms": 20_000}))
        await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
    with pytest.raises(MCPError) as raised:
        await asyncio.wait_for(call, BOUND)
    assert raised.value.code == mcp_types.CONNECTION_CLOSED
    assert core.is_closed
    stats = await stats_when(era_server, lambda s: idle(s) and s["sessions_live"] == 0, timeout=BOUND)
    assert idle(stats), stats


@asynccontextmanager
async def raw_streams(client: mcptool.Client) -> AsyncIterator[tuple[Any, Any]]:
    """The bridge's streams without an SDK session: the test is the session."""
    async with core_streams(client) as (read_stream, write_stream):
        yield read_stream, write_stream


async def exchange(read_stream: Any, write_stream: Any, request: mcp_types.JSONRPCRequest) -> Any:
    await write_stream.send(SessionMessage(message=request))
    with anyio.fail_after(BOUND):
        while True:
            item = await read_stream.receive()
            message = item.message
            if isinstance(message, mcp_types.JSONRPCResponse | mcp_types.JSONRPCError) and message.id == request.id:
                return message


@pytest.mark.parametrize(
    "bad",
    [object(), float("nan"), {1, 2}],
    ids=["object", "nan", "set"],
)
async def test_params_that_are_not_json_are_refused(server: Served, bad: Any) -> None:
    async with raw_streams(mcptool.Client(server.url)) as (read_stream, write_stream):
        request = mcp_types.JSONRPCRequest(
            jsonrpc="2.0", id=1, method="tools/call", params={"name": "echo", "arguments": {"message": bad}}
        )
        answer = await exchange(read_stream, write_stream, request)
    assert isinstance(answer, mcp_types.JSONRPCError)
    assert answer.error.code == mcp_types.INVALID_PARAMS
    assert "not JSON" in answer.error.message
    assert server.stats()["methods"].get("tools/call", 0) == 0


async def test_sdk_refuses_arguments_it_cannot_serialise(server: Served) -> None:
    async with sdk(mcptool.Client(server.url)) as session:
        with pytest.raises(Exception, match="serialize"):
            await asyncio.wait_for(session.call_tool("echo", {"message": object()}), BOUND)
        result = await session.call_tool("echo", {"message": "after"})
    assert text_of(result) == "after"
    assert idle(await stats_when(server, idle))


async def test_the_sdks_era_meta_is_stripped(server: Served) -> None:
    async with raw_streams(mcptool.Client(server.url)) as (read_stream, write_stream):
        request = mcp_types.JSONRPCRequest(
            jsonrpc="2.0",
            id=7,
            method="tools/call",
            params={
                "name": "echo",
                "arguments": {"message": "meta"},
                "_meta": {"io.modelcontextprotocol/protocolVersion": "1999-01-01", "traceparent": "00-ab-cd-01"},
            },
        )
        answer = await exchange(read_stream, write_stream, request)
    # A stale era stamp would have been refused by the strict server; it never got there.
    assert isinstance(answer, mcp_types.JSONRPCResponse), answer
    assert answer.result["content"][0]["text"] == "meta"


async def test_closing_the_transport_ends_requests_in_flight(era_server: Served) -> None:
    core = mcptool.Client(era_server.url)
    with anyio.fail_after(BOUND):
        async with raw_streams(core) as (read_stream, write_stream):
            request = mcp_types.JSONRPCRequest(
                jsonrpc="2.0", id=1, method="tools/call", params={"name": "sleep", "arguments": {"ms": 20_000}}
            )
            await write_stream.send(SessionMessage(message=request))
            await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
    assert core.is_closed
    stats = await stats_when(era_server, lambda s: idle(s) and s["sessions_live"] == 0, timeout=BOUND)
    assert stats["sessions_live"] == 0
    assert idle(stats), stats


async def test_cancelling_the_connection_still_ends_the_session(era_server: Served) -> None:
    core = mcptool.Client(era_server.url)

    async def connection() -> None:
        async with sdk(core) as session:
            await session.call_tool("sleep", {"ms": 20_000})

    task = asyncio.create_task(connection())
    await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, BOUND)
    assert core.is_closed
    stats = await stats_when(era_server, lambda s: idle(s) and s["sessions_live"] == 0, timeout=BOUND)
    assert stats["sessions_deleted"] == stats["sessions_opened"]
    assert idle(stats), stats
