"""The OpenAI Agents SDK drop-in (`mcptool.openai_agents.MCPServerStreamableHttp`) against a
real `mcptool serve`: the framework's own class and runner, mcptool's core underneath. Each
test checks what the caller got and what the server saw."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import mcp_types
import pytest
from agents import Agent, RunConfig, Runner
from agents.exceptions import UserError
from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
from agents.models.interface import Model, ModelTracing
from agents.usage import Usage
from conftest import Served
from mcp.shared.exceptions import MCPError
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText
from support import BOUND, cancelled, era_of, idle, plain_http_server, stats_when, wait_until

import mcptool
from mcptool.openai_agents import MCPServerStreamableHttp, UnsupportedOptionError, core_options


def text_of(result: mcp_types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, mcp_types.TextContent))


# ---- list and call, in both eras -----------------------------------------------------------


async def test_list_and_call_in_each_era(era_server: Served) -> None:
    server = MCPServerStreamableHttp({"url": era_server.url}, name="demo")
    async with server:
        tools = await server.list_tools()
        added = await server.call_tool("add", {"a": 2, "b": 3})
        whoami = await server.call_tool("whoami", {})
        session_id = server.session_id
        initialized = server.server_initialize_result
    assert {"echo", "add", "sleep", "whoami"} <= {tool.name for tool in tools}
    assert added.structured_content == {"sum": 5.0}
    assert initialized is not None
    stats = await stats_when(era_server, lambda s: idle(s) and s["sessions_live"] == 0)
    if era_of(era_server) == "stateless":
        assert stats["stateless_requests"] > 0
        assert stats["sessions_opened"] == 0
        assert session_id is None
    else:
        assert stats["sessions_opened"] == 1
        assert stats["sessions_deleted"] == 1
        assert stats["deletes"] >= 1
        assert session_id is not None
        assert whoami.structured_content == {"session_id": session_id}
    assert stats["methods"].get("tools/call") == 2
    assert idle(stats), stats


async def test_each_server_instance_owns_its_session(serve: Any) -> None:
    server = serve("--era", "sessions")
    first = MCPServerStreamableHttp({"url": server.url})
    second = MCPServerStreamableHttp({"url": server.url})
    async with first, second:
        one = await first.call_tool("whoami", {})
        two = await second.call_tool("whoami", {})
        ids = {first.session_id, second.session_id}
    assert None not in ids and len(ids) == 2
    assert {(one.structured_content or {}).get("session_id"), (two.structured_content or {}).get("session_id")} == ids
    stats = await stats_when(server, lambda s: idle(s) and s["sessions_live"] == 0)
    assert stats["sessions_opened"] == 2
    assert stats["sessions_deleted"] == 2
    assert idle(stats), stats


# ---- a real agent run ------------------------------------------------------------------------


class ScriptedModel(Model):
    """A model that first asks for one MCP tool, then answers with what the tool returned."""

    def __init__(self, tool: str, arguments: dict[str, Any]) -> None:
        self.tool = tool
        self.arguments = arguments
        self.offered: list[list[str]] = []

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: Any,
        tools: list[Any],
        output_schema: Any,
        handoffs: list[Any],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: Any,
    ) -> ModelResponse:
        self.offered.append([tool.name for tool in tools])
        items: list[dict[str, Any]] = [dict(item) for item in input] if isinstance(input, list) else []
        outputs = [item for item in items if item.get("type") == "function_call_output"]
        if not outputs:
            call = ResponseFunctionToolCall(
                type="function_call",
                id="fc_1",
                call_id="call_1",
                name=self.tool,
                arguments=json.dumps(self.arguments),
                status="completed",
            )
            return ModelResponse(output=[call], usage=Usage(), response_id=None)
        output = outputs[-1]["output"]
        said = output if isinstance(output, str) else json.dumps(output)
        message = ResponseOutputMessage(
            id="msg_1",
            type="message",
            role="assistant",
            status="completed",
            content=[ResponseOutputText(type="output_text", text=f"The tool said: {said}", annotations=[])],
        )
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError("the scripted model does not stream")
        yield  # pragma: no cover - makes this an async generator


async def test_runner_runs_an_agent_with_the_mcp_tool(era_server: Served) -> None:
    model = ScriptedModel("echo", {"message": "hello from the MCP server"})
    async with MCPServerStreamableHttp({"url": era_server.url}, cache_tools_list=True) as server:
        agent = Agent(name="helper", instructions="Use the tools.", model=model, mcp_servers=[server])
        result = await asyncio.wait_for(
            Runner.run(agent, "Say hello through the echo tool.", run_config=RunConfig(tracing_disabled=True)),
            BOUND,
        )
    assert "hello from the MCP server" in str(result.final_output)
    assert str(result.final_output).startswith("The tool said:")
    assert "echo" in model.offered[0]
    stats = await stats_when(era_server, lambda s: idle(s) and s["sessions_live"] == 0)
    assert stats["methods"].get("tools/call") == 1
    assert idle(stats), stats


# ---- options: each reaches the core or is refused ---------------------------------------------


@pytest.mark.parametrize(
    ("params", "option"),
    [
        ({"httpx_client_factory": lambda **kw: None}, "httpx_client_factory"),
        ({"auth": httpx.BasicAuth("user", "secret")}, "auth"),
        ({"ignore_initialized_notification_failure": True}, "ignore_initialized_notification_failure"),
        ({"timeout": None}, "timeout"),
        ({"sse_read_timeout": -1}, "sse_read_timeout"),
        ({"headers": {"X-Count": 3}}, "headers"),
        ({"terminate_on_close": "yes"}, "terminate_on_close"),
        ({"verify": False}, "verify"),
    ],
    ids=["httpx_client_factory", "auth", "ignore_initialized", "timeout", "sse_read_timeout", "headers",
         "terminate_on_close", "unknown"],
)
def test_options_the_core_cannot_honour_are_refused(params: dict[str, Any], option: str) -> None:
    with pytest.raises(UnsupportedOptionError, match=f"params\\['{option}'\\]") as raised:
        MCPServerStreamableHttp({"url": "http://127.0.0.1:9/mcp", **params})  # type: ignore[typeddict-item]
    # Catchable as the framework's configuration error and as mcptool's.
    assert isinstance(raised.value, UserError)
    assert isinstance(raised.value, mcptool.ConfigError)


def test_options_map_onto_the_core() -> None:
    oauth = mcptool.OAuth.client_credentials("agent", client_secret="s3cret")
    options = core_options(
        {
            "url": "http://127.0.0.1:9/mcp",
            "headers": {"X-Team": "blue"},
            "timeout": timedelta(seconds=2),
            "sse_read_timeout": 30,
            "terminate_on_close": False,
            "auth": oauth,
        }
    )
    assert options == {
        "url": "http://127.0.0.1:9/mcp",
        "headers": {"X-Team": "blue"},
        "oauth": oauth,
        "connect_timeout": 2.0,
        "close_timeout": 2.0,
        "request_timeout": 30.0,
        "sse_idle_timeout": 30.0,
        "terminate_on_close": False,
    }
    # The stock defaults: 5 s for connecting, 300 s for reading.
    defaults = core_options({"url": "http://127.0.0.1:9/mcp"})
    assert (defaults["connect_timeout"], defaults["request_timeout"]) == (5.0, 300.0)


async def test_headers_reach_the_server(serve: Any) -> None:
    served = serve("--faults")
    server = MCPServerStreamableHttp({"url": served.url, "headers": {"mcptool-fault": "status=500"}})
    with pytest.raises(mcptool.Error) as raised:
        await asyncio.wait_for(server.connect(), BOUND)  # type: ignore[no-untyped-call]
    assert raised.value.status == 500, raised.value  # the fault the header asked for
    stats = await stats_when(served, idle)
    assert stats["status_counts"].get("500", 0) >= 1
    assert idle(stats), stats


async def test_terminate_on_close_false_keeps_the_session(serve: Any) -> None:
    served = serve("--era", "sessions")
    async with MCPServerStreamableHttp({"url": served.url, "terminate_on_close": False}) as server:
        await server.call_tool("echo", {"message": "x"})
    stats = await stats_when(served, idle)
    assert stats["sessions_opened"] == 1
    assert stats["sessions_deleted"] == 0
    assert stats["sessions_live"] == 1
    assert idle(stats), stats  # the pool is closed all the same


async def test_sse_read_timeout_bounds_each_request(era_server: Served) -> None:
    params = {"url": era_server.url, "sse_read_timeout": 1}
    async with MCPServerStreamableHttp(params, client_session_timeout_seconds=None) as server:  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(MCPError) as raised:
            await asyncio.wait_for(server.call_tool("sleep", {"ms": 10_000}), BOUND)
        elapsed = time.monotonic() - started
    assert raised.value.code == mcp_types.REQUEST_TIMEOUT
    assert "timeout" in raised.value.message
    assert elapsed < 5
    assert idle(await stats_when(era_server, idle))


# ---- failures: each a clear exception, never a hang, nothing left open ------------------------


async def test_not_an_mcp_server_fails_to_connect() -> None:
    with plain_http_server() as web:
        server = MCPServerStreamableHttp({"url": web.url, "timeout": 5, "sse_read_timeout": 5})
        with pytest.raises(mcptool.Error) as raised:
            await asyncio.wait_for(server.connect(), BOUND)  # type: ignore[no-untyped-call]
        closed = await asyncio.to_thread(wait_until, lambda: web.open_connections == 0)
    assert web.requests, "the core never reached the server"
    assert isinstance(raised.value, mcptool.HttpStatusError | mcptool.ProtocolError), raised.value
    assert closed, f"{web.open_connections} connection(s) left open"
    assert server.session is None


async def test_server_killed_mid_call(era_server: Served) -> None:
    async with MCPServerStreamableHttp({"url": era_server.url}, client_session_timeout_seconds=None) as server:
        call = asyncio.create_task(server.call_tool("sleep", {"ms": 20_000}))
        await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
        await asyncio.to_thread(era_server.stop)
        with pytest.raises(MCPError) as raised:
            await asyncio.wait_for(call, BOUND)
        started = time.monotonic()
    assert raised.value.message.startswith("mcptool: tools/call failed")
    assert time.monotonic() - started < BOUND
    assert server.session is None


async def test_retry_on_a_fresh_session_after_the_server_died(era_server: Served) -> None:
    # With retries allowed, the stock class retries a lost call on an isolated session: here a
    # second mcptool client of its own, which cannot connect either. The cause surfaces.
    server = MCPServerStreamableHttp(
        {"url": era_server.url, "timeout": 2},
        client_session_timeout_seconds=None,
        max_retry_attempts=1,
        retry_backoff_seconds_base=0.01,
    )
    async with server:
        call = asyncio.create_task(server.call_tool("sleep", {"ms": 20_000}))
        await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
        await asyncio.to_thread(era_server.stop)
        with pytest.raises(Exception) as raised:
            await asyncio.wait_for(call, BOUND)
    assert isinstance(raised.value, mcptool.Error | MCPError), repr(raised.value)
    assert server.session is None


async def test_cancelled_task_cancels_the_call(era_server: Served) -> None:
    async with MCPServerStreamableHttp({"url": era_server.url}, client_session_timeout_seconds=None) as server:
        call = asyncio.create_task(server.call_tool("sleep", {"ms": 20_000}))
        await stats_when(era_server, lambda s: s["methods"].get("tools/call", 0) >= 1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(call, BOUND)
        stats = await stats_when(era_server, lambda s: cancelled(s) >= 1, timeout=BOUND)
        assert cancelled(stats) >= 1
        after = await server.call_tool("echo", {"message": "still connected"})
    assert text_of(after) == "still connected"
    assert idle(await stats_when(era_server, lambda s: idle(s) and s["sessions_live"] == 0))


async def test_arguments_that_are_not_json_fail_clearly(server: Served) -> None:
    async with MCPServerStreamableHttp({"url": server.url}) as mcp_server:
        with pytest.raises(Exception, match="serialize"):
            await asyncio.wait_for(mcp_server.call_tool("echo", {"message": object()}), BOUND)
        after = await mcp_server.call_tool("echo", {"message": "fine"})
    assert text_of(after) == "fine"
    stats = await stats_when(server, idle)
    assert stats["methods"].get("tools/call") == 1
    assert idle(stats), stats


async def test_list_changed_reaches_the_message_handler(era_server: Served) -> None:
    changed = asyncio.Event()

    async def handler(message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            changed.set()

    async with MCPServerStreamableHttp({"url": era_server.url}, message_handler=handler) as server:
        await server.list_tools()
        await server.call_tool("toggle_tools", {})
        await asyncio.wait_for(changed.wait(), BOUND)
        tools = await server.list_tools()
    assert "extra" in {tool.name for tool in tools}


async def test_no_elicitation_capability_is_declared(era_server: Served) -> None:
    """openai-agents installs no elicitation callback, so, like the stock class, the drop-in
    declares no elicitation capability: a tool that needs it fails saying so, in each era's
    way, and no SDK session is asked."""
    async with MCPServerStreamableHttp({"url": era_server.url}) as mcp_server:
        try:
            outcome = text_of(await asyncio.wait_for(mcp_server.call_tool("ask", {"question": "?"}), BOUND))
        except MCPError as error:
            outcome = error.message
    if "stateless" in era_server.process.args:
        # 2026-07-28: the server sees the capability missing from the request's _meta.
        assert "needs the client capability elicitation" in outcome, outcome
    else:
        # Session era: the server asks anyway; the core answers that it has no handler.
        assert "method not found: elicitation/create" in outcome, outcome


def test_import_fails_clearly_without_openai_agents(tmp_path: Path) -> None:
    # A fresh interpreter outside python/ (so the installed package is imported).
    code = "import sys; sys.modules['agents'] = None; import mcptool.openai_agents"
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "ImportError" in run.stderr
    assert "needs the OpenAI Agents SDK" in run.stderr
    assert "openai-agents" in run.stderr
