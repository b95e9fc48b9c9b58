"""`mcptool.Tool`, the agent tool, against real `mcptool serve` processes in both protocol
eras: its functions and their shapes for the model APIs, `invoke` outcomes (success, tool
error, invalid arguments, denied), approval, filtering and prefixing, prompts, timeouts, and
the session and connections each tool owns. Each test checks what the caller got and what the
server saw."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Served, Version
from support import BOUND, JsonObject, Stats, client_connections, is_session_era

import mcptool



def calls(stats: Stats, method: str = "tools/call") -> int:
    return int(stats["methods"].get(method, 0))


async def stats_of(server: Served) -> Stats:
    return await asyncio.to_thread(server.stats)


async def settled(server: Served, predicate: Callable[[Stats], bool], timeout: float = 5.0) -> Stats:
    """The server's stats once `predicate` holds (or at the deadline), polled off the loop."""
    return await asyncio.to_thread(server.wait_for, predicate, timeout)


def cancellation_seen(protocol: Version) -> Callable[[Stats], bool]:
    """The server stopped one call: `notifications/cancelled` in the session era, the call's
    stream closed in 2026-07-28."""
    key = "cancelled_requests" if is_session_era(protocol) else "works_cancelled_by_close"
    return lambda s: int(s[key]) == 1


# --- functions and their shapes --------------------------------------------------------------------


async def test_functions_mirror_the_servers_tools(server: Served, protocol: Version) -> None:
    """`functions()` has one function per tool the server lists, in its order, with its
    name, description and schemas."""
    async with mcptool.Client(server.url, protocol=protocol) as client:
        listed = await client.list_tools()
    async with mcptool.Tool(server.url, protocol=protocol, load_prompts=False) as tool:
        functions = tool.functions()
    assert [f["name"] for f in functions] == [t["name"] for t in listed]
    for function, mcp_tool in zip(functions, listed):
        assert function["mcp_name"] == mcp_tool["name"] and function["kind"] == "tool"
        assert function["description"] == mcp_tool.get("description")
        assert function["parameters"] == mcp_tool["inputSchema"]
        assert function["output_schema"] == mcp_tool.get("outputSchema")
        assert set(function) == {
            "name", "mcp_name", "kind", "description", "parameters", "output_schema", "annotations",
        }  # fmt: skip


async def test_prompts_are_functions_unless_turned_off(server: Served, protocol: Version) -> None:
    """Prompts become functions by default (`load_prompts=True`, as in agent-framework), and
    none does with `load_prompts=False`."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        default = sorted(f["name"] for f in tool.functions() if f["kind"] == "prompt")
    async with mcptool.Tool(server.url, protocol=protocol, load_prompts=False) as tool:
        off = [f["name"] for f in tool.functions() if f["kind"] == "prompt"]
    assert default == ["greeting", "introduce", "summarize"], default
    assert off == []


async def test_openai_and_anthropic_shapes(server: Served, protocol: Version) -> None:
    """`openai_tools()`, `openai_responses_tools()` and `anthropic_tools()` describe the same
    functions in each API's shape."""
    async with mcptool.Tool(server.url, protocol=protocol, load_prompts=False) as tool:
        functions = tool.functions()
        chat = tool.openai_tools()
        responses = tool.openai_responses_tools()
        anthropic = tool.anthropic_tools()
    assert len(chat) == len(responses) == len(anthropic) == len(functions)
    for f, c, r, a in zip(functions, chat, responses, anthropic):
        described = {"name": f["name"], "description": f["description"], "parameters": f["parameters"]}
        assert c == {"type": "function", "function": described}
        assert r == {"type": "function", **described}
        assert a == {"name": f["name"], "description": f["description"], "input_schema": f["parameters"]}
    add = next(c for c in chat if c["function"]["name"] == "add")
    assert add["function"]["parameters"]["required"] == ["a", "b"]


# --- invoke ------------------------------------------------------------------------------------------


async def test_invoke_success(server: Served, protocol: Version) -> None:
    """A successful call is kind "success" with the text and content for the model, and
    `structuredContent` when the tool gives one."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        echoed = await asyncio.wait_for(tool.invoke("echo", {"message": "hi"}), BOUND)
        added = await asyncio.wait_for(tool.invoke("add", {"a": 1, "b": 2}), BOUND)
        image = await asyncio.wait_for(tool.invoke("image"), BOUND)
    assert (echoed["kind"], echoed["is_error"], echoed["text"]) == ("success", False, "hi")
    assert echoed["content"] == [{"type": "text", "text": "hi"}] and echoed["function"] == "echo"
    assert added["structuredContent"] == {"sum": 3.0} and added["text"] == "3"
    assert image["content"][0]["type"] == "image" and image["content"][0]["mimeType"] == "image/png"
    assert image["text"] == "[image image/png, 100 bytes base64]"
    assert calls(await stats_of(server)) == 3


async def test_invoke_tool_error(server: Served, protocol: Version) -> None:
    """A tool that fails (`isError`) is kind "tool_error" with its message, not an exception."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        out = await asyncio.wait_for(tool.invoke("fail"), BOUND)
    assert (out["kind"], out["is_error"], out["isError"]) == ("tool_error", True, True)
    assert out["text"] == "this tool always fails"
    assert calls(await stats_of(server)) == 1


async def test_invoke_invalid_arguments_never_reach_the_server(server: Served, protocol: Version) -> None:
    """Arguments that break the tool's schema (`add` with a string) are kind
    "invalid_arguments", naming the path, and the server never sees the call."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        out = await asyncio.wait_for(tool.invoke("add", {"a": "x", "b": 2}), BOUND)
        missing = await asyncio.wait_for(tool.invoke("add", {"a": 1}), BOUND)
    assert out["kind"] == "invalid_arguments" and out["is_error"] is True
    assert out["argument_violations"] == [{"path": "/a", "message": '"x" is not of type "number"'}]
    assert "did not run" in out["text"]
    assert missing["kind"] == "invalid_arguments" and "b" in missing["argument_violations"][0]["message"]
    assert calls(await stats_of(server)) == 0


async def test_invoke_arguments_that_are_not_json(server: Served, protocol: Version) -> None:
    """Arguments JSON cannot carry are a TypeError/ValueError naming the path; nothing is sent."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        with pytest.raises(TypeError, match="at /message"):
            await tool.invoke("echo", {"message": object()})
        with pytest.raises(ValueError, match="NaN at /a"):
            await tool.invoke("add", {"a": float("nan"), "b": 1})
    assert calls(await stats_of(server)) == 0


async def test_unknown_function_is_a_config_error(server: Served, protocol: Version) -> None:
    """Invoking a name that is not a function is a `ConfigError` naming it; nothing is sent."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        with pytest.raises(mcptool.ConfigError, match='unknown function "nope"'):
            await tool.invoke("nope", {})
    assert calls(await stats_of(server)) == 0


# --- approval ----------------------------------------------------------------------------------------


async def _false(request: JsonObject) -> bool:
    return False


async def _reason(request: JsonObject) -> str:
    return "not on a Friday"


@pytest.mark.parametrize(
    ("approver", "reason"),
    [(_false, None), (lambda request: "not today", "not today"), (_reason, "not on a Friday")],
    ids=["async-False", "sync-reason", "async-reason"],
)
async def test_denied_calls_never_reach_the_server(
    server: Served, protocol: Version, approver: Callable[[JsonObject], Any], reason: str | None
) -> None:
    """With `approval_mode="always_require"`, an approver returning False or a reason denies
    the call: kind "denied", the reason in the text, and the server never sees it."""
    seen: list[JsonObject] = []

    def recording(request: JsonObject) -> Any:
        seen.append(request)
        return approver(request)

    async with mcptool.Tool(
        server.url, protocol=protocol, approval_mode="always_require", approver=recording
    ) as tool:
        out = await asyncio.wait_for(tool.invoke("echo", {"message": "x"}), BOUND)
    assert out["kind"] == "denied" and out["is_error"] is True
    assert out["text"].startswith("The call to echo was not approved") and "did not run" in out["text"]
    if reason is not None:
        assert reason in out["text"]
    assert seen == [{"function": "echo", "mcp_name": "echo", "arguments": {"message": "x"}}]
    assert calls(await stats_of(server)) == 0


async def _true(request: JsonObject) -> bool:
    return True


@pytest.mark.parametrize("approver", [_true, lambda request: True], ids=["async", "sync"])
async def test_approved_calls_run(
    server: Served, protocol: Version, approver: Callable[[JsonObject], Any]
) -> None:
    """An approver returning True lets the call run: the server sees it once."""
    async with mcptool.Tool(
        server.url, protocol=protocol, approval_mode="always_require", approver=approver
    ) as tool:
        out = await asyncio.wait_for(tool.invoke("echo", {"message": "ok"}), BOUND)
    assert (out["kind"], out["text"]) == ("success", "ok")
    assert calls(await stats_of(server)) == 1


async def test_approval_required_without_an_approver(server: Served, protocol: Version) -> None:
    """Approval required and no approver: denied, saying so, and not sent."""
    async with mcptool.Tool(server.url, protocol=protocol, approval_mode="always_require") as tool:
        out = await asyncio.wait_for(tool.invoke("echo", {"message": "x"}), BOUND)
    assert out["kind"] == "denied" and "no approver is configured" in out["text"]
    assert calls(await stats_of(server)) == 0


async def test_approver_that_raises_denies(server: Served, protocol: Version) -> None:
    """An approver that raises denies the call with its exception in the reason."""

    async def broken(request: JsonObject) -> bool:
        raise RuntimeError("approver down")

    async with mcptool.Tool(
        server.url, protocol=protocol, approval_mode="always_require", approver=broken
    ) as tool:
        out = await asyncio.wait_for(tool.invoke("echo", {"message": "x"}), BOUND)
    assert out["kind"] == "denied"
    assert "the approver failed: RuntimeError: approver down" in out["text"]
    assert calls(await stats_of(server)) == 0


async def test_per_tool_approval_mode(server: Served, protocol: Version) -> None:
    """Per tool: names in `never_require_approval` run without asking; those in
    `always_require_approval`, and any tool in neither list, ask the approver."""
    asked: list[str] = []

    def approver(request: JsonObject) -> bool:
        asked.append(request["function"])
        return False

    mode = {"always_require_approval": ["echo"], "never_require_approval": ["add"]}
    async with mcptool.Tool(
        server.url, protocol=protocol, approval_mode=mode, approver=approver
    ) as tool:
        echoed = await asyncio.wait_for(tool.invoke("echo", {"message": "x"}), BOUND)
        added = await asyncio.wait_for(tool.invoke("add", {"a": 1, "b": 1}), BOUND)
        unlisted = await asyncio.wait_for(tool.invoke("fail"), BOUND)
    assert (echoed["kind"], added["kind"], unlisted["kind"]) == ("denied", "success", "denied")
    assert asked == ["echo", "fail"]
    assert calls(await stats_of(server)) == 1


@pytest.mark.parametrize(
    ("mode", "error"),
    [("sometimes", ValueError), ({"always": ["echo"]}, ValueError), (3, TypeError)],
)
def test_bad_approval_mode(server: Served, mode: Any, error: type[Exception]) -> None:
    """An approval mode that is not one of the documented forms is refused at `Tool()`."""
    with pytest.raises(error, match="approval_mode"):
        mcptool.Tool(server.url, approval_mode=mode)


# --- filtering, prefixes, prompts ----------------------------------------------------------------------


async def test_allowed_tools_and_prefix(server: Served, protocol: Version) -> None:
    """`allowed_tools` keeps only the named tools and `tool_name_prefix` renames them for the
    model; a call by the prefixed name reaches the server under the tool's own name, other
    names are unknown functions and are not sent."""
    async with mcptool.Tool(
        server.url,
        protocol=protocol,
        allowed_tools=["echo", "add"],
        tool_name_prefix="demo_",
        load_prompts=False,
    ) as tool:
        names = [(f["name"], f["mcp_name"]) for f in tool.functions()]
        out = await asyncio.wait_for(tool.invoke("demo_echo", {"message": "prefixed"}), BOUND)
        for other in ("echo", "demo_sleep"):
            with pytest.raises(mcptool.ConfigError, match="unknown function"):
                await tool.invoke(other, {"message": "x"})
    assert names == [("demo_echo", "echo"), ("demo_add", "add")]
    assert (out["function"], out["text"]) == ("demo_echo", "prefixed")
    assert calls(await stats_of(server)) == 1


async def test_load_prompts_makes_prompt_functions(server: Served, protocol: Version) -> None:
    """`load_prompts=True` adds each prompt as a function (its arguments as parameters);
    invoking one gets the prompt's messages."""
    async with mcptool.Tool(server.url, protocol=protocol, load_prompts=True, load_tools=False) as tool:
        functions = {f["name"]: f for f in tool.functions()}
        out = await asyncio.wait_for(tool.invoke("greeting", {"name": "Ada"}), BOUND)
    assert set(functions) == {"greeting", "summarize", "introduce"}
    greeting = functions["greeting"]
    assert greeting["kind"] == "prompt" and greeting["parameters"]["required"] == ["name"]
    assert set(greeting["parameters"]["properties"]) == {"name", "style"}
    assert out["kind"] == "success"
    assert out["messages"] == [
        {"role": "user", "content": {"type": "text", "text": "Please greet Ada in a friendly style."}}
    ]
    assert out["text"] == "user: Please greet Ada in a friendly style."
    stats = await stats_of(server)
    assert calls(stats, "prompts/get") == 1 and calls(stats, "tools/list") == 0


# --- timeouts and cancellation ---------------------------------------------------------------------


async def test_execution_timeout(server: Served, protocol: Version) -> None:
    """`execution_timeout=0.2` ends a long call with a `TimeoutError` whose deadline is
    "execution"; the server stops the call."""
    async with mcptool.Tool(server.url, protocol=protocol, execution_timeout=0.2) as tool:
        started = time.monotonic()
        with pytest.raises(mcptool.TimeoutError) as timed_out:
            await asyncio.wait_for(tool.invoke("sleep", {"ms": 5000}), BOUND)
        elapsed = time.monotonic() - started
        stats = await settled(server, cancellation_seen(protocol))
    assert timed_out.value.deadline == "execution"
    assert 0.15 < elapsed < 2.0
    assert cancellation_seen(protocol)(stats)


async def test_invoke_timeout(server: Served, protocol: Version) -> None:
    """`invoke(..., timeout=0.2)` ends a long call with a "request" `TimeoutError`."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        with pytest.raises(mcptool.TimeoutError) as timed_out:
            await asyncio.wait_for(tool.invoke("sleep", {"ms": 5000}, timeout=0.2), BOUND)
        stats = await settled(server, cancellation_seen(protocol))
    assert timed_out.value.deadline == "request"
    assert cancellation_seen(protocol)(stats)


async def test_cancelling_an_invoke(server: Served, protocol: Version) -> None:
    """Cancelling the task awaiting `invoke` raises `CancelledError` at once and the server
    stops the call; the tool keeps working."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        task = asyncio.ensure_future(tool.invoke("sleep", {"ms": 10000}))
        await settled(server, lambda s: calls(s) == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, BOUND)
        stats = await settled(server, cancellation_seen(protocol))
        after = await asyncio.wait_for(tool.invoke("echo", {"message": "after"}), BOUND)
    assert cancellation_seen(protocol)(stats)
    assert after["text"] == "after"


# --- sessions, clients, lifecycle ---------------------------------------------------------------------


async def test_tool_client_shares_the_session(server: Served, protocol: Version) -> None:
    """`tool.client` is the tool's own connection: the same session (same `whoami`), one
    initialize or discover at the server, and closing the tool closes it."""
    async with mcptool.Tool(server.url, protocol=protocol) as tool:
        client = tool.client
        assert client is not None and client.is_connected
        by_client = await client.call_tool("whoami")
        by_tool = await tool.invoke("whoami")
        session_id = tool.session_id
    expected = {"session_id": session_id or ""}
    assert by_client["structuredContent"] == by_tool["structuredContent"] == expected
    assert client.session_id == session_id and (session_id is not None) == is_session_era(protocol)
    assert client.is_closed
    with pytest.raises(mcptool.ClosedError):
        await client.call_tool("echo", {"message": "x"})
    stats = await stats_of(server)
    opened = stats["sessions_opened"] if is_session_era(protocol) else stats["discover_calls"]
    assert opened == 1


async def test_two_tools_are_two_sessions(server: Served, protocol: Version) -> None:
    """Two tools are isolated: two sessions (session era), and closing one leaves the other
    working."""
    first = mcptool.Tool(server.url, protocol=protocol)
    second = mcptool.Tool(server.url, protocol=protocol)
    await first.connect()
    await second.connect()
    try:
        ids = [
            (await t.invoke("whoami"))["structuredContent"]["session_id"] for t in (first, second)
        ]
        await first.close()
        after = await asyncio.wait_for(second.invoke("echo", {"message": "still here"}), BOUND)
        with pytest.raises(mcptool.ClosedError):
            await first.invoke("echo", {"message": "x"})
        stats = await stats_of(server)
    finally:
        await first.close()
        await second.close()
    assert after["text"] == "still here"
    if is_session_era(protocol):
        assert ids[0] != ids[1] and set(stats["session_ids"]) == set(ids)
        assert (stats["sessions_opened"], stats["sessions_deleted"], stats["sessions_live"]) == (2, 1, 1)
    else:
        assert ids == ["", ""] and stats["discover_calls"] == 2


async def test_tool_lifecycle(server: Served, protocol: Version) -> None:
    """Before `connect()` a tool has no functions and no client, and `invoke` refuses (a
    `ConfigError` saying to connect) without sending; `close()` ends the session and every
    connection, twice is harmless, and a closed tool raises `ClosedError`."""
    tool = mcptool.Tool(server.url, protocol=protocol, name="demo", description="the demo server")
    assert (tool.name, tool.url, tool.is_connected, tool.client) == ("demo", server.url, False, None)
    assert tool.functions() == [] and "not connected" in repr(tool)
    with pytest.raises(mcptool.ConfigError, match=r"call connect\(\) first"):
        await tool.invoke("echo", {"message": "x"})
    assert (await stats_of(server))["methods"] == {}
    await asyncio.wait_for(tool.connect(), BOUND)
    assert tool.is_connected and len(tool.functions()) > 0
    first = await asyncio.wait_for(tool.close(), BOUND)
    second = await asyncio.wait_for(tool.close(), BOUND)
    assert first == {"outcome": "deleted" if is_session_era(protocol) else "stateless"}
    assert second == {"outcome": "already_closed"}
    with pytest.raises(mcptool.ClosedError):
        await tool.invoke("echo", {"message": "x"})
    stats = await settled(server, lambda s: client_connections(s) == 0)
    assert client_connections(stats) == 0 and stats["sessions_live"] == 0
    assert calls(stats) == 0


async def test_tool_handlers(server: Served, protocol: Version) -> None:
    """A tool's `on_elicitation` answers the server's question during `invoke`."""

    async def elicit(params: JsonObject) -> JsonObject:
        return {"action": "accept", "content": {"answer": f"re: {params['message']}"}}

    async with mcptool.Tool(server.url, protocol=protocol, on_elicitation=elicit) as tool:
        out = await asyncio.wait_for(tool.invoke("ask", {"question": "why?"}), BOUND)
    assert (out["kind"], out["text"]) == ("success", "re: why?")
    stats = await stats_of(server)
    assert stats["client_responses" if is_session_era(protocol) else "mrtr_rounds"] == 1


def test_unknown_keyword_is_a_type_error(server: Served) -> None:
    """An unknown keyword of `Tool()` is a TypeError naming it."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'allowed_tool'"):
        mcptool.Tool(server.url, allowed_tool=["echo"])  # type: ignore[call-arg]
