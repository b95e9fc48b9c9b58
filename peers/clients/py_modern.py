"""The Python SDK (PyPI `mcp` 2.x) client, speaking MCP 2026-07-28, against one endpoint.

    .peers/py-mcp2/bin/python peers/clients/py_modern.py http://127.0.0.1:PORT/mcp

Runs the scenario of crates/mcptool-server/tests/modern_peer_clients.rs and prints one JSON
object on stdout; any failure exits non-zero with a message on stderr. Every step uses the SDK's
own 2026-07-28 API:

- version: `Client(url, mode="2026-07-28")` pins the modern era (no initialize, no fallback to
  the session era); `session.send_discover("2026-07-28")` then asks the server, which must list
  2026-07-28 in `supportedVersions`, and `session.adopt()` installs its answer;
- tools: `Client.list_tools(cursor=...)`, page by page; tools: `Client.call_tool`;
- elicitation: `Client(elicitation_callback=...)`; `call_tool` answers an `input_required`
  result through it and retries with `inputResponses` and `requestState` (MRTR) by itself;
- list changes: `Client.listen(tools_list_changed=True)` opens `subscriptions/listen` and
  yields `ToolsListChanged` for each `notifications/tools/list_changed` on that stream.
"""

import json
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp import Client
from mcp.client.subscriptions import ToolsListChanged

VERSION = "2026-07-28"
OVERALL_TIMEOUT = 28.0
NOTIFICATION_TIMEOUT = 10.0


class ScenarioError(Exception):
    pass


def text_of(result: types.CallToolResult, tool: str) -> str:
    if result.is_error:
        raise ScenarioError(f"{tool} returned isError: {result.model_dump(by_alias=True, exclude_none=True)}")
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    if not texts:
        raise ScenarioError(f"{tool} returned no text content: {result.content!r}")
    return "".join(texts)


async def all_tool_names(client: Client) -> list[str]:
    names: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        # "refresh": always ask the server (the SDK would serve a listing still fresh by ttlMs).
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        names.extend(tool.name for tool in page.tools)
        cursor = page.next_cursor
        if cursor is None:
            return names
    raise ScenarioError("tools/list did not finish within 100 pages")


async def scenario(url: str) -> dict[str, Any]:
    elicitations: list[types.ElicitRequestParams] = []

    async def on_elicit(
        _context: Any, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        elicitations.append(params)
        if not isinstance(params, types.ElicitRequestFormParams):
            return types.ErrorData(code=types.INVALID_PARAMS, message=f"expected form mode, got {params!r}")
        properties = params.requested_schema.get("properties", {})
        if properties.get("answer", {}).get("type") != "string":
            return types.ErrorData(code=types.INVALID_PARAMS, message=f"no string 'answer' in {properties!r}")
        return types.ElicitResult(action="accept", content={"answer": "Ada"})

    client = Client(
        url,
        mode=VERSION,
        elicitation_callback=on_elicit,
        client_info=types.Implementation(name="mcptool-peer-py-modern", version="1.0.0"),
        read_timeout_seconds=NOTIFICATION_TIMEOUT,
    )
    async with client:
        # 1. server/discover at 2026-07-28 (an error, e.g. -32022 or an HTTP 4xx, raises).
        raw = await client.session.send_discover(VERSION)
        discovered = types.DiscoverResult.model_validate(raw)
        if VERSION not in discovered.supported_versions:
            raise ScenarioError(f"server does not offer {VERSION}: {discovered.supported_versions}")
        client.session.adopt(discovered)
        if client.protocol_version != VERSION:
            raise ScenarioError(f"negotiated {client.protocol_version}, not {VERSION}")
        info = client.server_info
        discover = {
            "supportedVersions": discovered.supported_versions,
            "serverName": info.name if info else None,
            "serverVersion": info.version if info else None,
        }

        # 2. tools/list, every page.
        tools = await all_tool_names(client)

        # 3. echo.
        echo = text_of(await client.call_tool("echo", {"message": "hello"}), "echo")

        # 4. ask: input_required -> elicitation callback -> retry, all inside call_tool.
        ask = text_of(await client.call_tool("ask", {"question": "Your name?"}), "ask")

        # 5. subscriptions/listen, toggle_tools, wait for notifications/tools/list_changed.
        async with client.listen(tools_list_changed=True) as subscription:
            if not subscription.honored.tools_list_changed:
                raise ScenarioError(f"server did not honor toolsListChanged: {subscription.honored!r}")
            text_of(await client.call_tool("toggle_tools", {}), "toggle_tools")
            with anyio.fail_after(NOTIFICATION_TIMEOUT):
                event = await subscription.__anext__()
            list_changed = isinstance(event, ToolsListChanged)
            if not list_changed:
                raise ScenarioError(f"expected ToolsListChanged on the listen stream, got {event!r}")
            tools_after = await all_tool_names(client)

    # 6. leaving `async with` closed the listen stream and the client.
    return {
        "client": "python mcp 2.x",
        "protocolVersion": VERSION,
        "discover": discover,
        "tools": tools,
        "echo": echo,
        "ask": ask,
        "elicitations": len(elicitations),
        "listChanged": list_changed,
        "toolsAfterToggle": tools_after,
    }


def describe(error: BaseException) -> str:
    """The leaf errors of a (nested) exception group, else the error itself."""
    if isinstance(error, BaseExceptionGroup):
        return "; ".join(describe(inner) for inner in error.exceptions)
    return f"{type(error).__name__}: {error}"


async def main() -> dict[str, Any]:
    with anyio.fail_after(OVERALL_TIMEOUT):
        return await scenario(sys.argv[1])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: py_modern.py <MCP endpoint URL>", file=sys.stderr)
        sys.exit(2)
    try:
        report = anyio.run(main)
    except BaseException as error:  # noqa: BLE001 - report anything, then fail
        if isinstance(error, KeyboardInterrupt):
            raise
        print(f"py_modern: {describe(error)}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(report))
