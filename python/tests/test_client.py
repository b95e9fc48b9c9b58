"""`mcptool.Client` against real `mcptool serve` processes, in both protocol eras: each test
checks what the caller got and what the server saw (its `/stats`).

The session era is spoken with `protocol="2025-11-25"`, the stateless one with
`protocol="2026-07-28"`, both on a server that serves the two eras on one endpoint (the
`protocol` fixture), unless a test needs a server of one era only.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import json
import math
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import SESSIONS, STATELESS, Served, Version
from support import BOUND, JsonObject, Stats, client_connections, is_session_era, plain_http_server

import mcptool



def method_count(stats: Stats, method: str) -> int:
    return int(stats["methods"].get(method, 0))


def status_count(stats: Stats, status: int) -> int:
    return int(stats["status_counts"].get(str(status), 0))


async def settled(server: Served, predicate: Callable[[Stats], bool], timeout: float = 5.0) -> Stats:
    """The server's stats once `predicate` holds (or at the deadline), polled off the loop."""
    return await asyncio.to_thread(server.wait_for, predicate, timeout)


async def stats_of(server: Served) -> Stats:
    return await asyncio.to_thread(server.stats)


async def closed_connections(server: Served) -> Stats:
    return await settled(server, lambda s: client_connections(s) == 0)


# --- connect, close, async with -----------------------------------------------------------------


async def test_session_era_opens_a_session_and_deletes_it(server: Served) -> None:
    """In the session era `async with` opens one session (the id the server issued) and
    leaving the block DELETEs it and closes every connection."""
    async with mcptool.Client(server.url, protocol=SESSIONS) as client:
        assert client.is_connected and not client.is_closed
        assert client.protocol_version == SESSIONS
        stats = await stats_of(server)
        assert stats["sessions_live"] == 1
        assert stats["session_ids"] == [client.session_id]
    assert client.is_closed and not client.is_connected
    stats = await closed_connections(server)
    assert (stats["sessions_opened"], stats["sessions_deleted"], stats["deletes"]) == (1, 1, 1)
    assert stats["sessions_live"] == 0
    assert client_connections(stats) == 0


async def test_stateless_era_has_no_session(server: Served) -> None:
    """With 2026-07-28 there is no session: discover, stateless requests only, no DELETE,
    and no connection left after close."""
    async with mcptool.Client(server.url, protocol=STATELESS) as client:
        assert client.session_id is None
        assert client.protocol_version == STATELESS
        await client.list_tools()
    assert client.is_closed
    stats = await closed_connections(server)
    assert stats["sessions_opened"] == 0 and stats["session_era_requests"] == 0
    assert stats["stateless_requests"] >= 2 and stats["discover_calls"] == 1
    assert stats["deletes"] == 0
    assert client_connections(stats) == 0


@pytest.mark.parametrize(("era", "version"), [("sessions", SESSIONS), ("stateless", STATELESS)])
async def test_auto_protocol_follows_the_server(
    serve: Callable[..., Served], era: str, version: Version
) -> None:
    """`protocol="auto"` (the default) speaks the only era a server offers."""
    served = serve("--era", era)
    async with mcptool.Client(served.url) as client:
        assert client.protocol_version == version
        assert (client.session_id is not None) == (era == "sessions")
        await client.call_tool("echo", {"message": "auto"})
    stats = await closed_connections(served)
    if era == "sessions":
        assert stats["sessions_opened"] == 1 and stats["session_era_requests"] > 0
    else:
        assert stats["sessions_opened"] == 0 and stats["stateless_requests"] > 0


async def test_connect_returns_the_initialize_result(server: Served, protocol: Version) -> None:
    """`connect()` returns the server's initialize-shaped result; `server_info` keeps it."""
    client = mcptool.Client(server.url, protocol=protocol)
    assert not client.is_connected and client.server_info is None
    info = await asyncio.wait_for(client.connect(), BOUND)
    try:
        assert info["protocolVersion"] == protocol
        assert info["serverInfo"]["name"] == "mcptool-server"
        assert "tools" in info["capabilities"]
        assert client.server_info == info
        assert client.url == server.url
        assert "connected" in repr(client)
    finally:
        await client.close()


async def test_close_reports_what_it_did_and_is_idempotent(server: Served, protocol: Version) -> None:
    """`close()` says what it did; a second `close()` does nothing more (no second DELETE)."""
    client = mcptool.Client(server.url, protocol=protocol)
    await client.connect()
    first = await asyncio.wait_for(client.close(), BOUND)
    second = await asyncio.wait_for(client.close(), BOUND)
    assert first == {"outcome": "deleted" if is_session_era(protocol) else "stateless"}
    assert second == {"outcome": "already_closed"}
    stats = await closed_connections(server)
    assert stats["deletes"] == (1 if is_session_era(protocol) else 0)


async def test_closed_client_raises_closed_error(server: Served, protocol: Version) -> None:
    """Every method of a closed client raises `ClosedError` and sends nothing; connecting
    again is refused the same way."""
    client = mcptool.Client(server.url, protocol=protocol)
    await client.connect()
    await client.close()
    before = await stats_of(server)
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: client.list_tools(),
        lambda: client.call_tool("echo", {"message": "x"}),
        lambda: client.request("tools/list"),
        lambda: client.notify("notifications/roots/list_changed"),
        lambda: client.get_prompt("greeting", {"name": "Ada"}),
        lambda: client.read_resource("demo://readme"),
        lambda: client.connect(),
    ]
    for call in calls:
        with pytest.raises(mcptool.ClosedError):
            await asyncio.wait_for(call(), BOUND)
    assert (await stats_of(server))["methods"] == before["methods"]


@pytest.mark.parametrize("version", ["auto", SESSIONS, STATELESS])
async def test_never_connected_client_raises_closed_error(server: Served, version: Version) -> None:
    """A request on a client that was never connected raises `ClosedError`, and nothing
    reaches the server."""
    client = mcptool.Client(server.url, protocol=version)
    try:
        await asyncio.wait_for(client.list_tools(), BOUND)
        outcome = "answered"
    except mcptool.ClosedError:
        outcome = "ClosedError"
    except mcptool.Error as e:
        outcome = f"{type(e).__name__}: {e}"
    finally:
        await client.close()
    sent = (await stats_of(server))["methods"]
    assert (outcome, sent) == ("ClosedError", {})


async def test_second_connect_is_refused(server: Served, protocol: Version) -> None:
    """Connecting a connected client again is a `ConfigError`; the first session stays."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        with pytest.raises(mcptool.ConfigError, match="already connected"):
            await asyncio.wait_for(client.connect(), BOUND)
        assert (await client.call_tool("echo", {"message": "still"}))["content"][0]["text"] == "still"
    stats = await stats_of(server)
    assert stats["sessions_opened"] == (1 if is_session_era(protocol) else 0)


async def test_close_from_another_task_ends_the_call_in_flight(server: Served, protocol: Version) -> None:
    """`close()` while another task awaits a long call ends that call with `ClosedError`
    at once (no hang), and the session and connections are gone."""
    client = mcptool.Client(server.url, protocol=protocol)
    await client.connect()
    call = asyncio.ensure_future(client.call_tool("sleep", {"ms": 10000}))
    await settled(server, lambda s: method_count(s, "tools/call") == 1)
    started = time.monotonic()
    await asyncio.wait_for(client.close(), BOUND)
    with pytest.raises(mcptool.ClosedError):
        await asyncio.wait_for(call, BOUND)
    assert time.monotonic() - started < 5.0
    stats = await closed_connections(server)
    assert client_connections(stats) == 0
    assert stats["sessions_live"] == 0


async def test_no_delete_server_refuses_the_delete(serve: Callable[..., Served]) -> None:
    """Against a server that refuses DELETE (405), `close()` says so and still closes every
    connection; the session stays alive at the server."""
    served = serve("--era", "sessions", "--no-delete")
    client = mcptool.Client(served.url)
    await client.connect()
    assert await asyncio.wait_for(client.close(), BOUND) == {"outcome": "delete_not_allowed"}
    stats = await closed_connections(served)
    assert status_count(stats, 405) == 1 and stats["sessions_live"] == 1
    assert client_connections(stats) == 0


async def test_terminate_on_close_false_keeps_the_session(server: Served) -> None:
    """`terminate_on_close=False`: no DELETE is sent, the session stays live, the
    connections still close."""
    client = mcptool.Client(server.url, protocol=SESSIONS, terminate_on_close=False)
    await client.connect()
    assert await asyncio.wait_for(client.close(), BOUND) == {"outcome": "not_terminated"}
    stats = await closed_connections(server)
    assert stats["deletes"] == 0 and stats["sessions_live"] == 1
    assert client_connections(stats) == 0


async def test_json_responses_server(serve: Callable[..., Served], protocol: Version) -> None:
    """A server answering with application/json instead of SSE gives the same results."""
    served = serve("--json-responses")
    async with mcptool.Client(served.url, protocol=protocol) as client:
        result = await client.call_tool("add", {"a": 2, "b": 5})
    assert result["structuredContent"] == {"sum": 7.0}
    assert method_count(await stats_of(served), "tools/call") == 1


# --- lists, calls, prompts, resources, raw requests ---------------------------------------------

DEMO_TOOLS = {
    "echo", "add", "sleep", "big", "image", "audio", "resource_link", "embedded_resource",
    "fail", "whoami", "log", "ask", "sample", "roots", "survey", "toggle_tools",
}  # fmt: skip


async def test_list_tools_follows_every_page(server: Served, protocol: Version) -> None:
    """`list_tools()` returns every tool, following the server's pages (five tools each),
    each with its schemas as sent."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        tools = await client.list_tools()
    by_name = {t["name"]: t for t in tools}
    assert DEMO_TOOLS <= set(by_name)
    # 21 tools, 5 a page: five pages. In 2026-07-28 the core leaves out `bad_header`, whose
    # x-mcp-header annotation is invalid.
    assert method_count(await stats_of(server), "tools/list") == 5
    assert ("bad_header" in by_name) == is_session_era(protocol)
    assert by_name["add"]["inputSchema"]["required"] == ["a", "b"]
    assert by_name["add"]["outputSchema"]["properties"] == {"sum": {"type": "number"}}


async def test_list_prompts_resources_and_templates(server: Served, protocol: Version) -> None:
    """Prompts, resources and resource templates are listed as the server sent them."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        prompts = await client.list_prompts()
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
    assert {p["name"] for p in prompts} >= {"greeting", "summarize", "introduce"}
    greeting = next(p for p in prompts if p["name"] == "greeting")
    assert {"name": "name", "description": "Who to greet", "required": True} in greeting["arguments"]
    assert {r["uri"] for r in resources} >= {"demo://readme", "demo://logo.png"}
    assert templates == [
        {
            "name": "item",
            "uriTemplate": "demo://items/{id}",
            "description": "A text item for any id",
            "mimeType": "text/plain",
        }
    ]
    methods = (await stats_of(server))["methods"]
    assert methods["prompts/list"] >= 1 and methods["resources/list"] >= 1
    assert methods["resources/templates/list"] == 1


async def test_media_and_resource_blocks_are_lossless(server: Served, protocol: Version) -> None:
    """Image, audio, resource_link and embedded resource blocks come back exactly as the
    server built them (base64 intact, every field kept)."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        image = await client.call_tool("image")
        audio = await client.call_tool("audio")
        link = await client.call_tool("resource_link")
        embedded = await client.call_tool("embedded_resource")
        readme = await client.read_resource("demo://readme")
    (block,) = image["content"]
    assert (block["type"], block["mimeType"]) == ("image", "image/png")
    png = base64.b64decode(block["data"], validate=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (sound,) = audio["content"]
    assert (sound["type"], sound["mimeType"]) == ("audio", "audio/wav")
    wav = base64.b64decode(sound["data"], validate=True)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert link["content"] == [
        {
            "type": "resource_link",
            "uri": "demo://readme",
            "name": "readme",
            "description": "The server's read-me",
            "mimeType": "text/markdown",
        }
    ]
    text, blob = embedded["content"]
    assert text == {"type": "resource", "resource": readme["contents"][0]}
    assert blob["resource"]["uri"] == "demo://logo.png"
    assert base64.b64decode(blob["resource"]["blob"]) == png
    assert "isError" not in image and "structuredContent" not in image


async def test_structured_content_and_is_error(server: Served, protocol: Version) -> None:
    """`structuredContent` arrives as sent; a tool failure is a result with `isError`, not
    an exception."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        added = await client.call_tool("add", {"a": 1.5, "b": 2})
        failed = await client.call_tool("fail")
        me = await client.call_tool("whoami")
    assert added == {"content": [{"type": "text", "text": "3.5"}], "structuredContent": {"sum": 3.5}}
    assert failed == {"content": [{"type": "text", "text": "this tool always fails"}], "isError": True}
    expected_id = client.session_id or ""
    assert me["structuredContent"] == {"session_id": expected_id}


async def test_get_prompt_and_read_resource(server: Served, protocol: Version) -> None:
    """`get_prompt` and `read_resource` (text, blob, template) return the server's results."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        prompt = await client.get_prompt("greeting", {"name": "Ada"})
        readme = await client.read_resource("demo://readme")
        logo = await client.read_resource("demo://logo.png")
        item = await client.read_resource("demo://items/7")
        with pytest.raises(mcptool.RpcError) as missing:
            await client.read_resource("demo://nope")
    assert prompt["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Please greet Ada in a friendly style."}}
    ]
    (text,) = readme["contents"]
    assert text["mimeType"] == "text/markdown" and text["text"].startswith("# mcptool-server")
    assert set(logo["contents"][0]) == {"uri", "mimeType", "blob"}
    assert item["contents"] == [{"uri": "demo://items/7", "mimeType": "text/plain", "text": "Item 7"}]
    # the session era's "resource not found" is -32002, 2026-07-28's -32602
    assert missing.value.code == (-32002 if is_session_era(protocol) else -32602)
    assert "Resource not found: demo://nope" in str(missing.value)
    assert method_count(await stats_of(server), "resources/read") == 4


async def test_raw_request_returns_the_result_without_era_details(server: Served, protocol: Version) -> None:
    """`request()` sends any method and returns its result object (no `resultType`); an
    unknown method is an `RpcError` -32601."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        page = await client.request("tools/list", {})
        with pytest.raises(mcptool.RpcError) as unknown:
            await client.request("no/such/method")
    assert len(page["tools"]) == 5 and "nextCursor" in page
    assert "resultType" not in page
    assert unknown.value.code == -32601
    assert method_count(await stats_of(server), "no/such/method") == 1


async def test_notify_reaches_the_server(server: Served) -> None:
    """`notify()` sends a notification the server counts (session era)."""
    async with mcptool.Client(server.url, protocol=SESSIONS) as client:
        await client.notify("notifications/roots/list_changed")
    stats = await settled(server, lambda s: method_count(s, "notifications/roots/list_changed") == 1)
    assert method_count(stats, "notifications/roots/list_changed") == 1


async def test_notify_in_the_stateless_era(server: Served) -> None:
    """In 2026-07-28 `notify()` is delivered as a stateless message (the server accepts it
    with 202 and ignores it, as that era defines no client notifications)."""
    async with mcptool.Client(server.url, protocol=STATELESS) as client:
        before = await stats_of(server)
        await asyncio.wait_for(client.notify("notifications/roots/list_changed"), BOUND)
        after = await stats_of(server)
    assert after["stateless_requests"] == before["stateless_requests"] + 1
    assert status_count(after, 202) == status_count(before, 202) + 1


async def test_ping_in_the_session_era(server: Served) -> None:
    """`ping()` is answered (the session era has `ping`)."""
    async with mcptool.Client(server.url, protocol=SESSIONS) as client:
        await asyncio.wait_for(client.ping(), BOUND)
    assert method_count(await stats_of(server), "ping") == 1


# --- server notifications ------------------------------------------------------------------------


def stream_live(protocol: Version) -> Callable[[Stats], bool]:
    """The stream that carries server notifications is open: the GET stream in the session
    era, the `subscriptions/listen` stream in 2026-07-28."""
    key = "live_get_streams" if is_session_era(protocol) else "listen_streams_live"
    return lambda s: int(s[key]) == 1


async def test_list_changed_notification(server: Served, protocol: Version) -> None:
    """`next_notification()` delivers `notifications/tools/list_changed` after `toggle_tools`,
    each time it is toggled."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        for expected in ("added tool extra", "removed tool extra"):
            waiter = asyncio.ensure_future(client.next_notification())
            assert stream_live(protocol)(await settled(server, stream_live(protocol)))
            toggled = await client.call_tool("toggle_tools")
            assert toggled["content"][0]["text"] == expected
            note = await asyncio.wait_for(waiter, BOUND)
            assert note is not None and note["method"] == "notifications/tools/list_changed"


async def test_log_message_notification_session_era(server: Served) -> None:
    """In the session era the `log` tool's `notifications/message` arrives on the GET stream
    and `next_notification()` delivers it."""
    async with mcptool.Client(server.url, protocol=SESSIONS) as client:
        await client.set_logging_level("info")
        waiter = asyncio.ensure_future(client.next_notification())
        await settled(server, stream_live(SESSIONS))
        await client.call_tool("log", {"level": "warning", "message": "disk low"})
        note = await asyncio.wait_for(waiter, BOUND)
    assert note == {
        "method": "notifications/message",
        "params": {"level": "warning", "logger": "mcptool-server", "data": "disk low"},
    }
    assert method_count(await stats_of(server), "logging/setLevel") == 1


async def test_log_message_notification_stateless_era(server: Served) -> None:
    """In 2026-07-28 a request that names a log level in `_meta` gets the `log` tool's
    `notifications/message` on its own stream; `next_notification()` delivers it."""
    async with mcptool.Client(server.url, protocol=STATELESS) as client:
        waiter = asyncio.ensure_future(client.next_notification())
        await settled(server, stream_live(STATELESS))
        params = {
            "name": "log",
            "arguments": {"level": "info", "message": "hello"},
            "_meta": {"io.modelcontextprotocol/logLevel": "debug"},
        }
        assert (await client.request("tools/call", params))["content"][0]["text"] == "logged"
        note = await asyncio.wait_for(waiter, BOUND)
    assert note == {
        "method": "notifications/message",
        "params": {"level": "info", "logger": "mcptool-server", "data": "hello"},
    }


async def test_notification_before_first_next_notification_is_kept(server: Served) -> None:
    """With the GET stream open from the start (`standalone_stream=True`), a list_changed
    sent before anyone awaited `next_notification()` is still delivered."""
    async with mcptool.Client(server.url, protocol=SESSIONS, standalone_stream=True) as client:
        assert stream_live(SESSIONS)(await settled(server, stream_live(SESSIONS)))
        await client.call_tool("toggle_tools")
        try:
            note = await asyncio.wait_for(client.next_notification(), 3.0)
        except asyncio.TimeoutError:
            note = None
        assert note is not None, "the list_changed sent before next_notification() was lost"
        assert note["method"] == "notifications/tools/list_changed"


async def test_next_notification_ends_with_none_on_close(server: Served, protocol: Version) -> None:
    """A task waiting in `next_notification()` gets None when the client closes."""
    client = mcptool.Client(server.url, protocol=protocol)
    await client.connect()
    waiter = asyncio.ensure_future(client.next_notification())
    await settled(server, stream_live(protocol))
    await client.close()
    assert await asyncio.wait_for(waiter, BOUND) is None
    assert await asyncio.wait_for(client.next_notification(), BOUND) is None


# --- cancellation, timeouts, progress ------------------------------------------------------------


def cancellation_seen(protocol: Version, count: int = 1) -> Callable[[Stats], bool]:
    """The server stopped `count` calls: by `notifications/cancelled` in the session era, by
    the client closing the call's stream in 2026-07-28."""
    key = "cancelled_requests" if is_session_era(protocol) else "works_cancelled_by_close"
    return lambda s: int(s[key]) == count


async def test_cancelling_the_task_cancels_the_call(server: Served, protocol: Version) -> None:
    """Cancelling a task awaiting `sleep(10000)` raises `CancelledError` at once, the server
    stops the call, and the client keeps working."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        call = asyncio.ensure_future(client.call_tool("sleep", {"ms": 10000}))
        await settled(server, lambda s: method_count(s, "tools/call") == 1)
        started = time.monotonic()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, BOUND)
        assert time.monotonic() - started < 1.0
        stats = await settled(server, cancellation_seen(protocol))
        assert cancellation_seen(protocol)(stats)
        if is_session_era(protocol):
            assert method_count(stats, "notifications/cancelled") == 1
        after = await asyncio.wait_for(client.call_tool("echo", {"message": "after"}), BOUND)
    assert after["content"] == [{"type": "text", "text": "after"}]


async def test_wait_for_timeout_cancels_the_call(server: Served, protocol: Version) -> None:
    """`asyncio.wait_for` around a call cancels it the same way as `task.cancel()`."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.call_tool("sleep", {"ms": 10000}), 0.5)
        stats = await settled(server, cancellation_seen(protocol))
        assert cancellation_seen(protocol)(stats)
        assert (await client.call_tool("add", {"a": 1, "b": 1}))["structuredContent"] == {"sum": 2.0}


async def test_request_timeout_option(server: Served, protocol: Version) -> None:
    """`request_timeout=0.2` ends a long call with `mcptool.TimeoutError` (a builtin
    TimeoutError too) whose deadline is "request"; the server stops the call."""
    async with mcptool.Client(server.url, protocol=protocol, request_timeout=0.2) as client:
        started = time.monotonic()
        with pytest.raises(mcptool.TimeoutError) as timed_out:
            await asyncio.wait_for(client.call_tool("sleep", {"ms": 5000}), BOUND)
        elapsed = time.monotonic() - started
        stats = await settled(server, cancellation_seen(protocol))
    assert isinstance(timed_out.value, builtins.TimeoutError)
    assert timed_out.value.deadline == "request" and timed_out.value.kind == "timeout"
    assert 0.15 < elapsed < 2.0
    assert cancellation_seen(protocol)(stats)


async def test_per_call_timeout(server: Served, protocol: Version) -> None:
    """`timeout=0.2` on one call ends it with a "request" TimeoutError; the next call without
    one runs to its end."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        with pytest.raises(mcptool.TimeoutError) as timed_out:
            await asyncio.wait_for(client.call_tool("sleep", {"ms": 5000}, timeout=0.2), BOUND)
        slept = await asyncio.wait_for(client.call_tool("sleep", {"ms": 300}), BOUND)
        with pytest.raises(mcptool.TimeoutError):
            raw = {"name": "sleep", "arguments": {"ms": 5000}}
            await asyncio.wait_for(client.request("tools/call", raw, timeout=0.2), BOUND)
    assert timed_out.value.deadline == "request"
    assert slept["content"][0]["text"] == "slept 300 ms"


async def test_sse_idle_timeout_stateless_era(server: Served) -> None:
    """In 2026-07-28 a call stream silent for longer than `sse_idle_timeout` fails with a
    `TimeoutError` whose deadline is "sse_idle" (the stream cannot be resumed)."""
    async with mcptool.Client(server.url, protocol=STATELESS, sse_idle_timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(mcptool.TimeoutError) as idle:
            await asyncio.wait_for(client.call_tool("sleep", {"ms": 3000}), BOUND)
        elapsed = time.monotonic() - started
    assert idle.value.deadline == "sse_idle"
    assert 0.25 < elapsed < 2.0


async def test_sse_idle_timeout_session_era_resumes(server: Served) -> None:
    """In the session era a response stream silent past `sse_idle_timeout` is resumed with
    Last-Event-ID (the server gave its events ids), so the call still gets its result."""
    async with mcptool.Client(server.url, protocol=SESSIONS, sse_idle_timeout=0.3) as client:
        result = await asyncio.wait_for(client.call_tool("sleep", {"ms": 1500}), BOUND)
    assert result["content"] == [{"type": "text", "text": "slept 1500 ms"}]
    assert (await stats_of(server))["resumptions"] >= 1


async def test_progress_callback(server: Served, protocol: Version) -> None:
    """`on_progress` receives each progress notification of `sleep(ms, steps)`, in order."""
    seen: list[JsonObject] = []
    async with mcptool.Client(server.url, protocol=protocol) as client:
        result = await asyncio.wait_for(
            client.call_tool("sleep", {"ms": 300, "steps": 3}, on_progress=seen.append), BOUND
        )
    assert result["content"][0]["text"] == "slept 300 ms"
    assert seen == [
        {"progress": float(i), "total": 3.0, "message": f"step {i} of 3"} for i in (1, 2, 3)
    ]


# --- headers ---------------------------------------------------------------------------------------
# The server's stats do not show request headers; `mcptool serve --faults` acts on the request
# header `mcptool-fault`, so `status=500` in it is a header whose arrival the stats prove.


async def test_static_headers_reach_the_server(serve: Callable[..., Served], protocol: Version) -> None:
    """`headers=` goes with every request: the server acts on `mcptool-fault: status=500`."""
    served = serve("--faults")
    client = mcptool.Client(served.url, protocol=protocol, headers={"mcptool-fault": "status=500"})
    with pytest.raises(mcptool.Error) as failed:
        await asyncio.wait_for(client.connect(), BOUND)
    await client.close()
    assert failed.value.status == 500
    assert status_count(await stats_of(served), 500) >= 1


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_header_provider_runs_before_each_request(
    serve: Callable[..., Served], protocol: Version, flavour: str
) -> None:
    """A header provider (plain or async) is asked before every request and its headers are
    sent: the one call made while it returns the fault header fails with the server's 500."""
    served = serve("--faults")
    state = {"fault": False, "calls": 0}

    def headers() -> dict[str, str]:
        state["calls"] += 1
        return {"mcptool-fault": "status=500"} if state["fault"] else {"x-test": "ok"}

    async def async_headers() -> dict[str, str]:
        await asyncio.sleep(0)
        return headers()

    provider = headers if flavour == "sync" else async_headers
    async with mcptool.Client(served.url, protocol=protocol, header_provider=provider) as client:
        await client.call_tool("echo", {"message": "before"})
        asked = state["calls"]
        state["fault"] = True
        with pytest.raises(mcptool.Error) as failed:
            await asyncio.wait_for(client.call_tool("echo", {"message": "faulty"}), BOUND)
        state["fault"] = False
        await client.call_tool("echo", {"message": "after"})
    assert failed.value.status == 500
    assert status_count(await stats_of(served), 500) == 1
    assert asked >= 2 and state["calls"] >= asked + 2


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_header_provider_that_raises(server: Served, protocol: Version, flavour: str) -> None:
    """A header provider that raises fails the request with a `ConfigError` naming the
    exception, at once, and nothing reaches the server."""

    def boom() -> dict[str, str]:
        raise KeyError("token")

    async def async_boom() -> dict[str, str]:
        await asyncio.sleep(0)
        raise KeyError("token")

    provider = boom if flavour == "sync" else async_boom
    client = mcptool.Client(server.url, protocol=protocol, header_provider=provider)
    started = time.monotonic()
    with pytest.raises(mcptool.ConfigError, match=r"header provider failed: KeyError: 'token'"):
        await asyncio.wait_for(client.connect(), BOUND)
    assert time.monotonic() - started < 2.0
    await asyncio.wait_for(client.close(), BOUND)
    stats = await stats_of(server)
    assert stats["methods"] == {} and stats["session_era_requests"] == stats["stateless_requests"] == 0


def test_static_header_with_crlf_is_refused_at_build(server: Served) -> None:
    """A header value with CR/LF (or a name with a space) is a `ConfigError` at `Client()`."""
    with pytest.raises(mcptool.ConfigError, match="x-test"):
        mcptool.Client(server.url, headers={"x-test": "a\r\nInjected: yes"})
    with pytest.raises(mcptool.ConfigError, match="bad name"):
        mcptool.Client(server.url, headers={"bad name": "a"})


async def test_provided_header_with_crlf_is_refused_on_send(server: Served, protocol: Version) -> None:
    """A header provider returning a value with CR/LF fails the request with a `ConfigError`
    naming the header; nothing is sent."""
    client = mcptool.Client(server.url, protocol=protocol, header_provider=lambda: {"x-test": "a\nb"})
    with pytest.raises(mcptool.ConfigError, match="x-test"):
        await asyncio.wait_for(client.connect(), BOUND)
    await client.close()
    assert (await stats_of(server))["methods"] == {}


# --- expired sessions and broken streams (session era; `serve --faults`) ---------------------------


class FaultSwitch:
    """A header provider sending `mcptool-fault: <fault>` while `fault` is set."""

    def __init__(self) -> None:
        self.fault: str | None = None

    def __call__(self) -> dict[str, str]:
        return {"mcptool-fault": self.fault} if self.fault else {}


async def test_expired_session_is_session_expired_error(serve: Callable[..., Served]) -> None:
    """When the server forgets the session (fault `expire`), the call fails with
    `SessionExpiredError` (HTTP 404), and so do later calls on that client."""
    served = serve("--faults")
    switch = FaultSwitch()
    async with mcptool.Client(served.url, protocol=SESSIONS, header_provider=switch) as client:
        await client.call_tool("echo", {"message": "before"})
        switch.fault = "expire"
        with pytest.raises(mcptool.SessionExpiredError) as expired:
            await asyncio.wait_for(client.call_tool("echo", {"message": "x"}), BOUND)
        switch.fault = None
        with pytest.raises(mcptool.SessionExpiredError):
            await asyncio.wait_for(client.call_tool("echo", {"message": "after"}), BOUND)
    assert expired.value.status == 404
    stats = await stats_of(served)
    assert (stats["sessions_expired"], stats["sessions_live"]) == (1, 0)


@pytest.mark.parametrize("fault", ["close", "cut-after=1"])
async def test_broken_response_stream_is_resumed(serve: Callable[..., Served], fault: str) -> None:
    """A session-era response stream the server breaks mid-way (closed, or cut after one
    event) is resumed with Last-Event-ID: the call still gets its result."""
    served = serve("--faults")
    switch = FaultSwitch()
    async with mcptool.Client(served.url, protocol=SESSIONS, header_provider=switch) as client:
        switch.fault = fault
        result = await asyncio.wait_for(client.call_tool("sleep", {"ms": 100, "steps": 2}), BOUND)
        switch.fault = None
    assert result["content"] == [{"type": "text", "text": "slept 100 ms"}]
    assert (await stats_of(served))["resumptions"] == 1


# --- server-to-client requests ---------------------------------------------------------------------


def input_round_trips(protocol: Version) -> Callable[[Stats], int]:
    """How the server got the client's answers: JSON-RPC responses POSTed back in the session
    era, multi-round-trip retries (MRTR) in 2026-07-28."""
    key = "client_responses" if is_session_era(protocol) else "mrtr_rounds"
    return lambda s: int(s[key])


async def test_elicitation_handler(server: Served, protocol: Version) -> None:
    """`on_elicitation` gets the server's form request and its answer becomes the result of
    `ask`."""
    seen: list[JsonObject] = []

    async def elicit(params: JsonObject) -> JsonObject:
        seen.append(params)
        return {"action": "accept", "content": {"answer": "forty-two"}}

    async with mcptool.Client(server.url, protocol=protocol, on_elicitation=elicit) as client:
        result = await asyncio.wait_for(client.call_tool("ask", {"question": "Meaning?"}), BOUND)
    assert result["content"] == [{"type": "text", "text": "forty-two"}]
    (params,) = seen
    assert params["message"] == "Meaning?" and params["mode"] == "form"
    assert params["requestedSchema"]["required"] == ["answer"]
    assert input_round_trips(protocol)(await stats_of(server)) == 1


async def test_two_elicitations_in_turn(server: Served, protocol: Version) -> None:
    """`survey` asks twice, the second question built from the first answer (two MRTR
    rounds in 2026-07-28)."""
    questions: list[str] = []

    async def elicit(params: JsonObject) -> JsonObject:
        questions.append(params["message"])
        field = next(iter(params["requestedSchema"]["properties"]))
        return {"action": "accept", "content": {field: "Grace" if field == "name" else "green"}}

    async with mcptool.Client(server.url, protocol=protocol, on_elicitation=elicit) as client:
        result = await asyncio.wait_for(client.call_tool("survey"), BOUND)
    assert questions == ["What is your name?", "Which colour do you like, Grace?"]
    assert result["structuredContent"] == {"name": "Grace", "colour": "green"}
    assert input_round_trips(protocol)(await stats_of(server)) == 2


async def test_sampling_handler(server: Served, protocol: Version) -> None:
    """`on_sampling` answers `sampling/createMessage`; its text is the result of `sample`."""
    seen: list[JsonObject] = []

    async def sample(params: JsonObject) -> JsonObject:
        seen.append(params)
        return {"role": "assistant", "content": {"type": "text", "text": "sampled!"}, "model": "stub"}

    async with mcptool.Client(server.url, protocol=protocol, on_sampling=sample) as client:
        result = await asyncio.wait_for(client.call_tool("sample", {"prompt": "Say hi"}), BOUND)
    assert result["content"] == [{"type": "text", "text": "sampled!"}]
    asked = {"role": "user", "content": {"type": "text", "text": "Say hi"}}
    assert seen == [{"messages": [asked], "maxTokens": 256}]
    assert input_round_trips(protocol)(await stats_of(server)) == 1


async def test_roots_handler(server: Served, protocol: Version) -> None:
    """`on_roots` answers `roots/list`; the server sees exactly those roots."""
    roots = [{"uri": "file:///tmp/project", "name": "project"}]

    async def list_roots(params: JsonObject) -> JsonObject:
        return {"roots": roots}

    async with mcptool.Client(server.url, protocol=protocol, on_roots=list_roots) as client:
        result = await asyncio.wait_for(client.call_tool("roots"), BOUND)
    assert json.loads(result["content"][0]["text"]) == roots
    assert input_round_trips(protocol)(await stats_of(server)) == 1


async def test_handler_rpc_error_reaches_the_server_session_era(server: Served) -> None:
    """In the session era a handler raising `RpcError(code=-32001)` is answered to the server
    as that JSON-RPC error (code, message and data), which the tool reports back."""

    async def refuse(params: JsonObject) -> JsonObject:
        raise mcptool.RpcError("not here", code=-32001, data={"why": "test"})

    async with mcptool.Client(server.url, protocol=SESSIONS, on_elicitation=refuse) as client:
        result = await asyncio.wait_for(client.call_tool("ask", {"question": "q"}), BOUND)
    assert result["isError"] is True
    text = result["content"][0]["text"]
    assert text.startswith("the client answered elicitation/create with an error:")
    assert '"code":-32001' in text and '"message":"not here"' in text and '"why":"test"' in text
    assert (await stats_of(server))["client_responses"] == 1


async def test_handler_rpc_error_in_the_stateless_era(server: Served) -> None:
    """In 2026-07-28 an input request cannot be answered with an error (MRTR carries results
    only): a handler raising `RpcError(code=-32001)` ends the call with that `RpcError`
    (code and data kept) and the server never gets a retry."""

    async def refuse(params: JsonObject) -> JsonObject:
        raise mcptool.RpcError("not here", code=-32001, data={"why": "test"})

    async with mcptool.Client(server.url, protocol=STATELESS, on_elicitation=refuse) as client:
        with pytest.raises(mcptool.RpcError) as refused:
            await asyncio.wait_for(client.call_tool("ask", {"question": "q"}), BOUND)
    assert (refused.value.code, refused.value.data) == (-32001, {"why": "test"})
    assert "not here" in str(refused.value)
    stats = await stats_of(server)
    assert (stats["mrtr_rounds"], stats["mrtr_retries"]) == (1, 0)


async def test_handler_raising_another_exception(server: Served, protocol: Version) -> None:
    """A handler raising anything else answers -32603 naming the exception."""

    async def broken(params: JsonObject) -> JsonObject:
        raise ValueError("bad handler")

    async with mcptool.Client(server.url, protocol=protocol, on_elicitation=broken) as client:
        if is_session_era(protocol):
            result = await asyncio.wait_for(client.call_tool("ask", {"question": "q"}), BOUND)
            text = result["content"][0]["text"]
        else:
            with pytest.raises(mcptool.RpcError) as failed:
                await asyncio.wait_for(client.call_tool("ask", {"question": "q"}), BOUND)
            assert failed.value.code == -32603
            text = str(failed.value)
    assert "-32603" in text and "ValueError: bad handler" in text


# --- bad input and broken servers ------------------------------------------------------------------


@pytest.fixture
def plain_http() -> Iterator[str]:
    """A plain web server on 127.0.0.1 (not MCP) answering every request with an HTML page;
    yields its /mcp URL."""
    with plain_http_server() as page:
        yield page.url


@pytest.mark.parametrize("version", ["auto", SESSIONS, STATELESS])
async def test_url_that_is_not_mcp(plain_http: str, version: Version) -> None:
    """A URL served by a plain web server is a `ProtocolError` naming its text/html answer."""
    client = mcptool.Client(plain_http, protocol=version)
    with pytest.raises(mcptool.ProtocolError, match='Content-Type "text/html"'):
        await asyncio.wait_for(client.connect(), BOUND)
    await asyncio.wait_for(client.close(), BOUND)


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_dead_port_is_a_connect_error(protocol: Version) -> None:
    """Nobody listening is a `ConnectError` (a builtin ConnectionError too), quickly."""
    client = mcptool.Client(f"http://127.0.0.1:{free_port()}/mcp", protocol=protocol)
    started = time.monotonic()
    with pytest.raises(mcptool.ConnectError, match="refused") as failed:
        await asyncio.wait_for(client.connect(), BOUND)
    assert isinstance(failed.value, ConnectionError)
    assert time.monotonic() - started < 5.0
    await client.close()


async def test_server_killed_mid_call(serve: Callable[..., Served], protocol: Version) -> None:
    """Killing the server during a call ends the call with an error saying the connection
    went away, within seconds; later calls fail to connect and close() does not hang."""
    served = serve()
    client = mcptool.Client(served.url, protocol=protocol)
    await client.connect()
    call = asyncio.ensure_future(client.call_tool("sleep", {"ms": 10000}))
    await settled(served, lambda s: method_count(s, "tools/call") == 1)
    served.process.kill()
    served.process.wait(5)
    started = time.monotonic()
    with pytest.raises(mcptool.NetworkError) as broken:
        await asyncio.wait_for(call, BOUND)
    assert time.monotonic() - started < 5.0
    assert "went away" in str(broken.value) or "broke" in str(broken.value)
    with pytest.raises(mcptool.ConnectError):
        await asyncio.wait_for(client.call_tool("echo", {"message": "x"}), BOUND)
    try:
        await asyncio.wait_for(client.close(), BOUND)
    except mcptool.ConnectError:
        pass  # the session era's DELETE cannot reach the dead server; the client closes anyway
    assert client.is_closed


def _cyclic() -> JsonObject:
    cycle: JsonObject = {}
    cycle["self"] = cycle
    return {"a": cycle}


NOT_JSON: list[tuple[str, Callable[[], JsonObject], type[Exception], str]] = [
    ("object", lambda: {"a": object()}, TypeError, "at /a is not JSON-serialisable"),
    ("set", lambda: {"a": [1, {2}]}, TypeError, "at /a/1"),
    ("bytes", lambda: {"a": b"raw"}, TypeError, "type bytes at /a"),
    ("nan", lambda: {"a": math.nan, "b": 1}, ValueError, "NaN at /a"),
    ("infinity", lambda: {"a": {"deep": [0, -math.inf]}}, ValueError, "inf at /a/deep/1"),
    ("int over 64 bits", lambda: {"a": 2**64, "b": 1}, ValueError, "integer at /a does not fit"),
    ("int under -2**63", lambda: {"a": -(2**63) - 1, "b": 1}, ValueError, "integer at /a"),
    ("non-str key", lambda: {"a": {1: "one"}}, TypeError, "a key at /a is a value of type int"),
    ("tuple key", lambda: cast(JsonObject, {("t",): 1}), TypeError, "key at the top level"),
    ("cyclic", _cyclic, ValueError, "is it cyclic?"),
]


@pytest.mark.parametrize(("label", "make", "error", "message"), NOT_JSON, ids=[n[0] for n in NOT_JSON])
async def test_arguments_that_are_not_json(
    server: Served,
    protocol: Version,
    label: str,
    make: Callable[[], JsonObject],
    error: type[Exception],
    message: str,
) -> None:
    """Arguments JSON cannot carry are refused before sending, with a TypeError or ValueError
    naming where they are; the server sees no call and the client stays usable."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        before = method_count(await stats_of(server), "tools/call")
        with pytest.raises(error, match=message.replace("?", r"\?")):
            await client.call_tool("add", make())
        with pytest.raises(error):
            await client.request("tools/call", {"name": "add", "arguments": make()})
        assert method_count(await stats_of(server), "tools/call") == before
        assert (await client.call_tool("add", {"a": 1, "b": 2}))["structuredContent"] == {"sum": 3.0}


async def test_arguments_must_be_a_dict(server: Served) -> None:
    """Arguments that are not a mapping are a TypeError; params of `request()` too."""
    async with mcptool.Client(server.url, protocol=SESSIONS) as client:
        with pytest.raises(TypeError, match="arguments must be a dict"):
            await client.call_tool("add", [1, 2])  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="params must be a dict"):
            await client.request("tools/list", ["x"])  # type: ignore[arg-type]
    assert method_count(await stats_of(server), "tools/call") == 0


def test_unknown_keyword_is_a_type_error(server: Served) -> None:
    """An unknown keyword of `Client()` is a TypeError naming it (nothing is ignored)."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'request_timout'"):
        mcptool.Client(server.url, request_timout=1.0)  # type: ignore[call-arg]


@pytest.mark.parametrize("version", ["1999-01-01", "latest", ""])
def test_bad_protocol_is_a_value_error(server: Served, version: str) -> None:
    """A `protocol=` that is neither auto, sessions nor a known version is a ValueError."""
    with pytest.raises(ValueError, match="protocol must be"):
        mcptool.Client(server.url, protocol=version)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_message_bytes": 0}, ValueError, "max_message_bytes must be positive"),
        ({"request_timeout": -1}, ValueError, "request_timeout must be a positive"),
        ({"connect_timeout": math.inf}, ValueError, "connect_timeout must be a positive"),
        ({"request_timeout": "soon"}, TypeError, "request_timeout must be a number"),
        ({"headers": ["x"]}, TypeError, "headers must be a mapping"),
        ({"headers": {"x": 1}}, TypeError, "headers must be a mapping of str to str"),
        ({"on_sampling": "not callable"}, TypeError, "on_sampling must be callable"),
        ({"header_provider": 3}, TypeError, "header_provider must be callable"),
        ({"oauth": "token"}, TypeError, "oauth must be an mcptool.OAuth"),
    ],
)
def test_bad_option_values(
    server: Served, options: JsonObject, error: type[Exception], message: str
) -> None:
    """Wrong option values are refused at construction, naming the option."""
    with pytest.raises(error, match=message):
        mcptool.Client(server.url, **options)


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/mcp", ""])
def test_bad_url_is_a_config_error(url: str) -> None:
    """A URL that is not http(s) is a `ConfigError` at construction."""
    with pytest.raises(mcptool.ConfigError):
        mcptool.Client(url)


async def test_oversize_message_is_a_protocol_error(server: Served, protocol: Version) -> None:
    """`max_message_bytes=1000` refuses `big(bytes=100000)` with a `ProtocolError`; the client
    stays usable for small answers."""
    async with mcptool.Client(server.url, protocol=protocol, max_message_bytes=1000) as client:
        with pytest.raises(mcptool.ProtocolError, match="exceeds the limit of 1000 bytes"):
            await asyncio.wait_for(client.call_tool("big", {"bytes": 100000}), BOUND)
        small = await asyncio.wait_for(client.call_tool("big", {"bytes": 10}), BOUND)
    assert small["content"][0]["text"] == "abcdefghij"


# --- event loops and processes ---------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import asyncio, gc, sys
    import mcptool

    url, protocol, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    held = []

    async def main():
        client = mcptool.Client(url, protocol=protocol)
        await client.connect()
        me = await client.call_tool("whoami")
        print("called", me["structuredContent"]["session_id"], flush=True)
        if mode == "keep":
            held.append(client)

    asyncio.run(main())
    gc.collect()
    if mode in ("keep", "drop"):
        print("loop closed", flush=True)
        sys.stdin.readline()
    if held:
        async def close():
            return await held[0].close()

        print("closed", asyncio.run(close())["outcome"], flush=True)
    """
)


def run_child(tmp_path: Path, url: str, protocol: Version, mode: str) -> subprocess.Popen[str]:
    """A Python process running CHILD (outside python/, so that it imports the installed
    package rather than the sources)."""
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, protocol, mode],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_process_exits_with_the_client_open(server: Served, protocol: Version, tmp_path: Path) -> None:
    """A process that connects and exits without `close()`: its connections close with it,
    but nothing DELETEs its session, which the server keeps live (session era)."""
    child = run_child(tmp_path, server.url, protocol, "exit")
    try:
        out, err = await asyncio.to_thread(child.communicate, None, 60)
    finally:
        if child.poll() is None:
            child.kill()
    assert out.startswith("called"), err
    stats = await closed_connections(server)
    assert client_connections(stats) == 0
    assert stats["deletes"] == 0
    assert stats["sessions_live"] == (1 if is_session_era(protocol) else 0)


@pytest.mark.parametrize("mode", ["keep", "drop"])
async def test_event_loop_closed_with_the_client_open(
    server: Served, protocol: Version, tmp_path: Path, mode: str
) -> None:
    """After the event loop that connected a client has closed (the process still running):
    a client still referenced keeps its connection and can be closed from a new loop (which
    DELETEs the session); a client garbage-collected closes its connection but leaves its
    session live."""
    child = run_child(tmp_path, server.url, protocol, mode)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert (await asyncio.to_thread(child.stdout.readline)).startswith("called")
        assert (await asyncio.to_thread(child.stdout.readline)).strip() == "loop closed"
        expected = 1 if mode == "keep" else 0
        open_now = client_connections(
            await settled(server, lambda s: client_connections(s) == expected)
        )
        child.stdin.write("\n")
        child.stdin.flush()
        rest, err = await asyncio.to_thread(child.communicate, None, 60)
    finally:
        if child.poll() is None:
            child.kill()
    assert open_now == expected
    stats = await closed_connections(server)
    assert client_connections(stats) == 0
    if mode == "keep":
        outcome = "deleted" if is_session_era(protocol) else "stateless"
        assert rest.strip() == f"closed {outcome}", err
        assert stats["sessions_live"] == 0
    else:
        assert stats["sessions_live"] == (1 if is_session_era(protocol) else 0)


CHILD_CLEAN = textwrap.dedent(
    """
    import asyncio, sys
    import mcptool

    async def main():
        async with mcptool.Client(sys.argv[1], protocol=sys.argv[2]) as client:
            await client.call_tool("echo", {"message": "bye"})

    asyncio.run(main())
    """
)


def test_clean_processes_exit_cleanly(server: Served, tmp_path: Path) -> None:
    """Eighty short processes that connect, call, close and return from asyncio.run all exit
    with status 0."""

    def one(protocol: Version) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-c", CHILD_CLEAN, server.url, protocol],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode, done.stderr[-300:]

    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(one, [SESSIONS, STATELESS] * 40))
    failed = [r for r in runs if r[0] != 0]
    assert not failed, f"{len(failed)} of {len(runs)} processes failed at exit, e.g. {failed[0]}"
