"""Interop peer: a Python SDK 2.x `MCPServer` on 127.0.0.1, over Streamable HTTP.

    .peers/py-mcp2/bin/python peers/python/server_mcp2.py --port 8123 [--json-response] [--event-store]

Tools: echo (text), add (structured output), count (progress notifications), pixel (image),
interrupted (closes its own SSE stream mid-call: resumption).
Prompt: greet(name). Resource: demo://greeting.
"""

import anyio
from pydantic import BaseModel

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.streamable_http import EventStore

from _common import MemoryEvents, parse_args, tiny_png


class Sum(BaseModel):
    sum: int


class Store(EventStore):
    def __init__(self) -> None:
        self._events = MemoryEvents()

    async def store_event(self, stream_id, message):
        return self._events.store(stream_id, message)

    async def replay_events_after(self, last_event_id, send_callback):
        from mcp.server.streamable_http import EventMessage

        stream_id, later = self._events.after(last_event_id)
        for event_id, message in later:
            await send_callback(EventMessage(message, event_id))
        return stream_id


server = MCPServer("mcptool-interop-py2", version="1.0.0")


@server.tool(description="Echoes the message back")
def echo(message: str) -> str:
    return message


@server.tool(description="Adds two integers; the result is structured")
def add(a: int, b: int) -> Sum:
    return Sum(sum=a + b)


@server.tool(description="Counts to steps, reporting progress at each step")
async def count(steps: int, ctx: Context) -> str:
    for step in range(1, steps + 1):
        await anyio.sleep(0.02)
        await ctx.report_progress(step, steps, f"step {step}")
    return f"counted to {steps}"


@server.tool(description="Reports progress, closes its own SSE stream mid-call, then finishes")
async def interrupted(steps: int, ctx: Context) -> str:
    half = steps // 2
    for step in range(1, half + 1):
        await ctx.report_progress(step, steps, f"step {step}")
    # With an event store, the server ends this request's stream here; the client must
    # resume with Last-Event-ID to receive the rest.
    await ctx.close_sse_stream()
    await anyio.sleep(0.05)
    for step in range(half + 1, steps + 1):
        await ctx.report_progress(step, steps, f"step {step}")
    return f"finished {steps} steps"


@server.tool(description="Returns a 2x2 red PNG")
def pixel() -> Image:
    return Image(data=tiny_png(), format="png")


@server.prompt(description="Greets someone by name")
def greet(name: str) -> str:
    return f"Please greet {name} warmly."


@server.resource("demo://greeting", name="greeting", mime_type="text/plain")
def greeting() -> str:
    return "hello from mcp 2"


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0])
    server.run(
        "streamable-http",
        host="127.0.0.1",
        port=args.port,
        json_response=args.json_response,
        event_store=Store() if args.event_store else None,
    )
