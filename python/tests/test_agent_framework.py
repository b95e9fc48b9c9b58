"""The agent-framework drop-in (`mcptool.agent_framework.MCPStreamableHTTPTool`) against real
`mcptool serve` processes: its calls in both eras, the sequential-runs report reproduced with
the drop-in and with the stock class, a real `Agent` run, the constructor's options reaching
the wire (or refused), and bad input.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import agent_framework
import pytest
from agent_framework import Agent
from agent_framework.exceptions import ToolException

from af_support import (
    WAIT,
    HeaderRecorder,
    SamplingChatClient,
    ScriptedChatClient,
    connections_closed,
    mcp_connections,
    result_text,
    status_count,
)
from conftest import Served
from support import stats_when, wait_until

import mcptool
from mcptool.agent_framework import HttpClientNotSupportedError, MCPStreamableHTTPTool

Factory = Callable[..., Any]


def drop_in(url: str, **kwargs: Any) -> MCPStreamableHTTPTool:
    """The drop-in as a service would make it (no prompts: the demo server's are irrelevant)."""
    return MCPStreamableHTTPTool(name="demo", url=url, load_prompts=False, **kwargs)


async def bounded(awaitable: Any, timeout: float = WAIT) -> Any:
    """Every wait of these tests is bounded: a hang fails the test instead of the run."""
    return await asyncio.wait_for(awaitable, timeout)


async def whoami(tool: Any) -> str:
    """The session id the server ran the call in (empty in the stateless era)."""
    result = await bounded(tool.call_tool("whoami"))
    return str(json.loads(result_text(result))["session_id"])


# --- the basics, in both eras -------------------------------------------------------------


async def test_connect_list_and_call_in_each_era(era_server: Served) -> None:
    tool = drop_in(era_server.url)
    await bounded(tool.connect())
    names = {f.name for f in tool.functions}
    assert {"echo", "add", "whoami", "sleep"} <= names
    assert result_text(await bounded(tool.call_tool("echo", message="hi there"))) == "hi there"
    # structured_first (the stock default): a result with structuredContent reads as its JSON.
    assert json.loads(result_text(await bounded(tool.call_tool("add", a=2, b=3)))) == {"sum": 5}
    session = await whoami(tool)
    await bounded(tool.close())

    stats = await stats_when(era_server, connections_closed)
    assert mcp_connections(stats) == 0
    assert stats["methods"].get("tools/call") == 3
    if era_server_is_stateless(stats):
        assert session == ""
        assert stats["sessions_opened"] == 0 and stats["session_era_requests"] == 0
    else:
        assert session and stats["session_ids"] == [session]
        assert stats["sessions_opened"] == 1 and stats["sessions_deleted"] == 1


def era_server_is_stateless(stats: dict[str, Any]) -> bool:
    """Whether the server saw only 2026-07-28 requests."""
    return stats["stateless_requests"] > 0 and stats["session_era_requests"] == 0


async def test_async_with_and_tool_error(server: Served) -> None:
    async with drop_in(server.url) as tool:
        assert tool.is_connected
        with pytest.raises(ToolException, match="always fails"):
            await bounded(tool.call_tool("fail"))
        # A tool error is the tool's answer, not a broken connection: the next call works.
        assert result_text(await bounded(tool.call_tool("echo", message="after"))) == "after"
    assert not tool.is_connected
    stats = await stats_when(server, connections_closed)
    assert mcp_connections(stats) == 0


async def test_list_changed_reloads_the_functions(era_server: Served) -> None:
    """`toggle_tools` makes the server announce a new tool list; the notification crosses the
    core and the bridge, and the framework reloads its functions."""
    async with drop_in(era_server.url) as tool:
        assert "extra" not in {f.name for f in tool.functions}
        # The channel the change travels on (the GET stream, the 2026-07-28 listen stream)
        # opens in the background; a change announced before it is live reaches no one.
        live = await stats_when(era_server, lambda s: s["live_get_streams"] + s["listen_streams_live"] >= 1)
        assert live["live_get_streams"] + live["listen_streams_live"] >= 1
        await bounded(tool.call_tool("toggle_tools"))
        deadline = time.monotonic() + 10
        while "extra" not in {f.name for f in tool.functions} and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert "extra" in {f.name for f in tool.functions}
        assert result_text(await bounded(tool.call_tool("extra"))) == "extra tool called"


async def test_bridge_notifications_carry_no_2026_subscription_meta(era_server: Served) -> None:
    """Why the framework misses list changes in 2026-07-28: the bridge speaks the legacy
    dialect to the SDK (so the SDK's `listen()` is refused and the framework falls back to its
    message handler), yet passes on the listen stream's `_meta`
    `io.modelcontextprotocol/subscriptionId`, which that handler takes as "handled by
    listen()" and skips. Legacy-dialect notifications should not carry the 2026 era's keys."""
    import mcp
    import mcp_types

    from mcptool._bridge import core_streams

    seen: list[Any] = []

    async def handler(message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            seen.append(message)

    core = mcptool.Client(era_server.url)
    async with mcp.Client(core_streams(core), cache=None, message_handler=handler) as session:
        await stats_when(era_server, lambda s: s["live_get_streams"] + s["listen_streams_live"] >= 1)
        await bounded(session.call_tool("toggle_tools", {}))
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    assert seen, "no list_changed reached the SDK"
    meta = dict(getattr(seen[0].params, "meta", None) or {})
    assert not [k for k in meta if str(k).startswith("io.modelcontextprotocol/")], meta


# --- the original report: sequential tools in one process ----------------------------------


async def sequential_runs(served: Served, make: Factory) -> dict[str, Any]:
    """Two tools made, connected, called and closed one after the other (the report's
    FastAPI service, one request after another); what the server saw."""
    sessions: list[str] = []
    after_first: dict[str, Any] = {}
    for run in range(2):
        tool = make(served.url)
        await bounded(tool.connect())
        sessions.append(await whoami(tool))
        await bounded(tool.close())
        if run == 0:
            after_first = await stats_when(served, connections_closed)
    final = await stats_when(served, lambda s: connections_closed(s) and s["sessions_live"] == 0)
    return {"sessions": sessions, "after_first": after_first, "final": final}


async def test_sequential_tools_get_their_own_sessions(serve: Callable[..., Served]) -> None:
    served = serve("--era", "sessions")
    seen = await sequential_runs(served, drop_in)
    first, second = seen["sessions"]
    final = seen["final"]
    assert first and second and first != second
    assert mcp_connections(seen["after_first"]) == 0, "the first tool left a connection open"
    assert seen["after_first"]["sessions_deleted"] == 1
    assert final["sessions_opened"] == 2 and final["sessions_deleted"] == 2
    assert final["deletes"] == 2 and final["sessions_live"] == 0
    assert status_count(final, 409) == 0 and status_count(final, 404) == 0
    assert mcp_connections(final) == 0


async def test_sequential_tools_with_the_stock_class(serve: Callable[..., Served]) -> None:
    """The same runs with agent-framework's own class (1.23.0), recorded: it closes its
    httpx2 client, so the report's 409s do not happen with this version either; it pings the
    server and probes server/discover first (400 from a sessions-only server)."""
    served = serve("--era", "sessions")

    def stock(url: str) -> Any:
        return agent_framework.MCPStreamableHTTPTool(name="demo", url=url, load_prompts=False)

    seen = await sequential_runs(served, stock)
    final = seen["final"]
    print("\nstock 1.23.0, two sequential tools:", json.dumps({
        k: final[k] for k in ("sessions_opened", "sessions_deleted", "deletes", "status_counts",
                              "methods", "total_connections")
    }))
    first, second = seen["sessions"]
    assert first and second and first != second
    assert mcp_connections(seen["after_first"]) == 0
    assert final["sessions_opened"] == 2 and final["sessions_deleted"] == 2 and final["deletes"] == 2
    assert status_count(final, 409) == 0 and status_count(final, 404) == 0
    assert final["methods"].get("server/discover") == 2 and status_count(final, 400) == 2
    assert final["methods"].get("ping", 0) > 0


# --- a real agent run ------------------------------------------------------------------------


async def test_agent_run_calls_the_mcp_function(era_server: Served) -> None:
    model = ScriptedChatClient("echo", {"message": "hello from the agent"})
    agent = Agent(client=model, name="runner")
    async with drop_in(era_server.url) as tool:
        response = await bounded(agent.run("say hello", tools=[tool]))
    await bounded(agent.close())
    assert response.text == "tool said: hello from the agent"
    assert model.results == ["hello from the agent"] and model.turns == 2
    stats = await stats_when(era_server, connections_closed)
    assert stats["methods"].get("tools/call") == 1
    assert mcp_connections(stats) == 0


async def test_agent_connects_a_run_tool_and_closes_it_with_itself(serve: Callable[..., Served]) -> None:
    """A tool passed to one run and never connected by the caller: the Agent connects it
    (into its own exit stack) and closes it when the Agent closes."""
    served = serve("--era", "sessions")
    agent = Agent(client=ScriptedChatClient("whoami", {}), name="runner")
    tool = drop_in(served.url)
    response = await bounded(agent.run("who am i", tools=[tool]))
    assert tool.is_connected
    live = await stats_when(served, lambda s: s["sessions_live"] == 1)
    assert live["sessions_live"] == 1 and response.text.startswith("tool said: ")
    await bounded(agent.close())
    assert not tool.is_connected
    stats = await stats_when(served, lambda s: connections_closed(s) and s["sessions_deleted"] == 1)
    assert stats["sessions_deleted"] == 1 and mcp_connections(stats) == 0


# --- the constructor's options on the wire ---------------------------------------------------


async def test_static_headers_reach_every_request(serve: Callable[..., Served]) -> None:
    served = serve("--era", "sessions")
    relay = HeaderRecorder(served.url)
    url = await relay.start()
    try:
        tool = drop_in(url, static_headers={"X-Static": "fixed-value"})
        await bounded(tool.connect())
        await bounded(tool.call_tool("echo", message="x"))
        await bounded(tool.close())
    finally:
        await relay.stop()
    posts = [r for r in relay.requests if r.method == "POST"]
    assert posts and all(r.headers.get("x-static") == "fixed-value" for r in relay.requests)
    assert any(r.method == "DELETE" for r in relay.requests)


async def test_header_provider_follows_the_run_kwargs(serve: Callable[..., Served]) -> None:
    """The provider gets the run's kwargs: the handshake of a run-connected tool carries the
    run's tenant; a later run with another tenant reconnects (a new session, the old one
    deleted), as the stock class does."""
    served = serve("--era", "sessions")
    relay = HeaderRecorder(served.url)
    url = await relay.start()
    seen_kwargs: list[dict[str, Any]] = []

    def provider(kwargs: dict[str, Any]) -> dict[str, str]:
        seen_kwargs.append(dict(kwargs))
        return {"X-Tenant": kwargs["tenant"]}

    agent = Agent(client=ScriptedChatClient("whoami", {}), name="runner")
    tool = drop_in(url, header_provider=provider, static_headers={"X-Static": "s"})
    try:
        first = await bounded(agent.run("a", tools=[tool], function_invocation_kwargs={"tenant": "t1"}))
        after_first = len(relay.requests)
        second = await bounded(agent.run("b", tools=[tool], function_invocation_kwargs={"tenant": "t2"}))
        await bounded(agent.close())
    finally:
        await relay.stop()
    assert first.text != second.text  # two sessions: whoami answered two ids
    tenants_first = {r.headers.get("x-tenant") for r in relay.requests[:after_first]}
    tenants_second = {r.headers.get("x-tenant") for r in relay.requests[after_first:]}
    assert tenants_first == {"t1"}
    # The reconnect's DELETE of the first session keeps t1; everything else carries t2.
    assert "t2" in tenants_second and tenants_second <= {"t1", "t2"}
    assert all(r.headers.get("x-static") == "s" for r in relay.requests)
    assert any(k.get("tenant") == "t2" for k in seen_kwargs)
    stats = await stats_when(served, lambda s: connections_closed(s) and s["sessions_live"] == 0)
    assert stats["sessions_opened"] == 2 and stats["sessions_deleted"] == 2


async def test_header_provider_of_a_standalone_tool_gets_empty_kwargs(server: Served) -> None:
    """Connected outside any run, the provider is called with {}; a KeyError there sends no
    dynamic headers instead of failing (the stock rule)."""
    calls: list[dict[str, Any]] = []

    def provider(kwargs: dict[str, Any]) -> dict[str, str]:
        calls.append(dict(kwargs))
        return {"X-Token": kwargs["token"]}

    tool = drop_in(server.url, header_provider=provider)
    await bounded(tool.connect())
    assert calls and calls[0] == {}
    assert result_text(await bounded(tool.call_tool("echo", message="m", token="abc"))) == "m"
    await bounded(tool.close())
    assert {"message": "m", "token": "abc"} in calls


async def test_header_provider_that_raises_fails_the_connect(server: Served) -> None:
    def provider(kwargs: dict[str, Any]) -> dict[str, str]:
        raise RuntimeError("no credentials for this run")

    tool = drop_in(server.url, header_provider=provider)
    started = time.monotonic()
    with pytest.raises(ToolException) as raised:
        await bounded(tool.connect())
    assert "no credentials for this run" in describe(raised.value)
    assert time.monotonic() - started < 10
    assert not tool.is_connected
    await bounded(tool.close())
    stats = await stats_when(server, connections_closed)
    assert mcp_connections(stats) == 0 and stats["sessions_live"] == 0


async def test_header_provider_that_raises_on_a_call(server: Served) -> None:
    def provider(kwargs: dict[str, Any]) -> dict[str, str]:
        if "message" in kwargs:
            raise LookupError("token vault unreachable")
        return {}

    async with drop_in(server.url, header_provider=provider) as tool:
        with pytest.raises(LookupError, match="token vault unreachable"):
            await bounded(tool.call_tool("echo", message="x"))
    stats = await stats_when(server, connections_closed)
    assert mcp_connections(stats) == 0


def describe(error: BaseException) -> str:
    """An exception with its causes, as one string."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 10:
        parts.append(f"{type(seen).__name__}: {seen}")
        inner = getattr(seen, "inner_exception", None)
        seen = seen.__cause__ or seen.__context__ or inner
    return " <- ".join(parts)


async def test_request_timeout_reaches_the_core(server: Served) -> None:
    async with drop_in(server.url, request_timeout=1) as tool:
        assert tool.mcptool_client is not None
        started = time.monotonic()
        with pytest.raises(ToolException):
            await bounded(tool.call_tool("sleep", ms=5000))
        assert time.monotonic() - started < 4
    stats = await stats_when(server, connections_closed)
    assert mcp_connections(stats) == 0


async def test_terminate_on_close_false_sends_no_delete(serve: Callable[..., Served]) -> None:
    served = serve("--era", "sessions")
    tool = drop_in(served.url, terminate_on_close=False)
    await bounded(tool.connect())
    await bounded(tool.close())
    stats = await stats_when(served, connections_closed)
    assert stats["deletes"] == 0 and stats["sessions_live"] == 1
    assert mcp_connections(stats) == 0


def test_http_client_is_refused() -> None:
    import httpx2

    with pytest.raises(HttpClientNotSupportedError, match="http_client") as raised:
        MCPStreamableHTTPTool(name="demo", url="http://127.0.0.1:1/mcp", http_client=httpx2.AsyncClient())
    assert isinstance(raised.value, ValueError)
    assert "static_headers" in str(raised.value)


def test_the_constructor_is_the_stock_one() -> None:
    import inspect

    ours = inspect.signature(MCPStreamableHTTPTool.__init__).parameters
    stock = inspect.signature(agent_framework.MCPStreamableHTTPTool.__init__).parameters
    assert list(ours) == list(stock)
    assert {n: p.default for n, p in ours.items()} == {n: p.default for n, p in stock.items()}
    assert issubclass(MCPStreamableHTTPTool, agent_framework.MCPStreamableHTTPTool)


async def test_caller_owned_mcp_client_passes_through(server: Served) -> None:
    """An already-entered `mcp.Client` is the caller's: the drop-in uses it as the stock class
    does, and never builds a core client for it."""
    import mcp

    async with mcp.Client(server.url) as client:
        tool = MCPStreamableHTTPTool(name="demo", mcp_client=client, load_prompts=False)
        await bounded(tool.connect())
        assert result_text(await bounded(tool.call_tool("echo", message="owned"))) == "owned"
        await bounded(tool.close())
        assert tool.mcptool_client is None
        # Still the caller's, still open:
        assert (await bounded(client.call_tool("echo", {"message": "still"}))).content[0].text == "still"


def test_caller_owned_client_refuses_http_options() -> None:
    with pytest.raises(ValueError, match="static_headers"):
        MCPStreamableHTTPTool(name="demo", mcp_client=object(), static_headers={"a": "b"})


# --- sampling --------------------------------------------------------------------------------


async def test_sampling_reaches_the_framework_callback(server: Served) -> None:
    model = SamplingChatClient("sampled answer")
    tool = drop_in(server.url, client=model, sampling_approval_callback=lambda params: True)
    async with tool:
        result = result_text(await bounded(tool.call_tool("sample", prompt="what is 2+2?")))
    assert "sampled answer" in result
    assert model.prompts and "2+2" in model.prompts[0]


async def test_sampling_is_denied_without_approval(server: Served) -> None:
    model = SamplingChatClient("never")
    async with drop_in(server.url, client=model) as tool:
        with pytest.raises(ToolException) as raised:
            await bounded(tool.call_tool("sample", prompt="p"))
    assert "denied" in describe(raised.value).lower()
    assert model.prompts == []


# --- bad input -------------------------------------------------------------------------------


async def test_a_url_that_is_not_mcp(server: Served) -> None:
    not_found = server.url.rsplit("/", 1)[0] + "/not-mcp"
    with pytest.raises(ToolException) as raised:
        await bounded(drop_in(not_found).connect())
    assert "404" in describe(raised.value)


async def test_a_web_page_that_is_not_mcp() -> None:
    """A server that answers every request with HTML: a clear failure to connect, and no
    connection left open on it."""
    from support import plain_http_server

    with plain_http_server() as page:
        with pytest.raises(ToolException) as raised:
            await bounded(drop_in(page.url).connect())
        closed = await asyncio.to_thread(wait_until, lambda: page.open_connections == 0)
    print("\nHTML server:", describe(raised.value)[:400])
    assert page.requests, "nothing reached the web server"
    assert "text/html" in str(raised.value)
    assert isinstance(raised.value.__cause__ or raised.value.inner_exception, mcptool.ProtocolError)
    assert closed, f"{page.open_connections} connection(s) left open on the web server"


async def test_a_port_where_nothing_listens() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(ToolException):
        await bounded(drop_in(f"http://127.0.0.1:{port}/mcp").connect())
    assert time.monotonic() - started < 10


async def test_a_url_that_is_not_a_url() -> None:
    """Refused at connect, as the stock class does (its constructor takes any string too),
    with the core's reason."""
    with pytest.raises(ToolException, match="invalid server URL") as raised:
        await bounded(drop_in("not a url").connect())
    assert isinstance(raised.value.__cause__, mcptool.ConfigError)


async def test_server_killed_mid_call(serve: Callable[..., Served]) -> None:
    served = serve("--era", "sessions")
    tool = drop_in(served.url)
    await bounded(tool.connect())
    call = asyncio.ensure_future(tool.call_tool("sleep", ms=10_000))
    await asyncio.sleep(0.5)
    served.process.kill()
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        await bounded(call, 15)
    assert not isinstance(raised.value, asyncio.TimeoutError), "the call hung after the kill"
    print("\nkilled mid-call:", describe(raised.value)[:400])
    assert "network" in describe(raised.value)
    assert time.monotonic() - started < 10
    await bounded(tool.close())  # closing a tool whose server died ends, and does not raise


async def test_arguments_that_are_not_json(server: Served) -> None:
    async with drop_in(server.url) as tool:
        with pytest.raises(Exception) as raised:
            await bounded(tool.call_tool("echo", message=object()))
        assert not isinstance(raised.value, asyncio.TimeoutError)
        print("\nnot JSON:", describe(raised.value)[:400])
        assert "serialize" in describe(raised.value).lower()
        # The tool is still usable: the bad call never reached the wire.
        assert result_text(await bounded(tool.call_tool("echo", message="ok"))) == "ok"
    stats = await stats_when(server, connections_closed)
    assert stats["methods"].get("tools/call") == 1


async def test_close_twice_and_from_another_task(serve: Callable[..., Served]) -> None:
    served = serve("--era", "sessions")
    tool = drop_in(served.url)
    await bounded(tool.connect())
    await bounded(asyncio.create_task(tool.close()))
    await bounded(tool.close())
    await bounded(asyncio.gather(tool.close(), tool.close()))
    assert not tool.is_connected
    stats = await stats_when(served, connections_closed)
    assert stats["deletes"] == 1 and stats["sessions_deleted"] == 1
    assert mcp_connections(stats) == 0


async def test_close_during_a_call(serve: Callable[..., Served]) -> None:
    served = serve("--era", "sessions")
    tool = drop_in(served.url)
    await bounded(tool.connect())
    call = asyncio.ensure_future(tool.call_tool("sleep", ms=10_000))
    await asyncio.sleep(0.3)
    await bounded(tool.close(), 10)
    with pytest.raises(BaseException):
        await bounded(call, 10)
    stats = await stats_when(served, lambda s: connections_closed(s) and s["sessions_live"] == 0)
    assert stats["sessions_deleted"] == 1 and mcp_connections(stats) == 0


def leave_open_in_a_thread(make: Factory, url: str) -> list[BaseException]:
    """Connects a tool and calls it on a loop of its own in a thread, then lets the loop end
    (asyncio.run returns) without closing the tool; the errors the thread raised."""
    errors: list[BaseException] = []

    async def leave_open() -> None:
        tool = make(url)
        await bounded(tool.connect())
        await bounded(tool.call_tool("echo", message="left open"))

    def run() -> None:
        try:
            asyncio.run(leave_open())
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "asyncio.run did not return with a tool open"
    gc.collect()
    return errors


def test_event_loop_closed_with_a_tool_open_in_a_thread(serve: Callable[..., Served]) -> None:
    """A loop that ends while its tool is connected: asyncio.run's shutdown of async
    generators closes the bridge, hence the client: session deleted, no connection left."""
    served = serve("--era", "sessions")
    assert leave_open_in_a_thread(drop_in, served.url) == []
    stats = served.wait_for(lambda s: connections_closed(s) and s["sessions_live"] == 0, timeout=10)
    assert stats["sessions_deleted"] == 1
    assert mcp_connections(stats) == 0, f"{mcp_connections(stats)} connection(s) outlived the loop"


def test_event_loop_closed_with_a_stock_tool_open_in_a_thread(serve: Callable[..., Served]) -> None:
    """The same with agent-framework's class (1.23.0), recorded: its session is deleted, but
    the httpx2 connection stays open after the loop is gone (asyncio reports "an error
    occurred during closing of asynchronous generator streamable_http_client")."""
    served = serve("--era", "sessions")

    def stock(url: str) -> Any:
        return agent_framework.MCPStreamableHTTPTool(name="demo", url=url, load_prompts=False)

    assert leave_open_in_a_thread(stock, served.url) == []
    stats = served.wait_for(lambda s: connections_closed(s) and s["sessions_live"] == 0, timeout=3)
    print(f"\nstock 1.23.0, loop closed with the tool open: {mcp_connections(stats)} connection(s) left open,"
          f" sessions deleted {stats['sessions_deleted']}")
    assert stats["sessions_deleted"] == 1
    assert mcp_connections(stats) == 1


def test_event_loop_closed_with_a_tool_open_in_a_subprocess(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve("--era", "sessions")
    script = textwrap.dedent(f"""
        import asyncio
        from mcptool.agent_framework import MCPStreamableHTTPTool

        async def main():
            tool = MCPStreamableHTTPTool(name="demo", url={served.url!r}, load_prompts=False)
            await asyncio.wait_for(tool.connect(), 20)
            await asyncio.wait_for(tool.call_tool("echo", message="left open"), 20)
            print("connected", flush=True)

        asyncio.run(main())
        print("loop closed", flush=True)
    """)
    done = run_python(script, tmp_path)
    assert "loop closed" in done.stdout, done.stderr[-2000:]
    stats = served.wait_for(connections_closed, timeout=10)
    assert mcp_connections(stats) == 0
    assert stats["methods"].get("tools/call") == 1


def run_python(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs `script` in a fresh interpreter of this venv, outside python/ (so that `mcptool`
    is the installed wheel, not the sources)."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_import_fails_clearly_without_agent_framework(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys
        sys.modules["agent_framework"] = None  # as if it were not installed
        import importlib.util
        real = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: None if name == "agent_framework" else real(name, *a)
        try:
            import mcptool.agent_framework
        except ModuleNotFoundError as error:
            print("ERROR:", error)
    """)
    done = run_python(script, tmp_path)
    assert "ERROR:" in done.stdout, done.stderr[-2000:]
    assert "agent_framework" in done.stdout and "pip install" in done.stdout
