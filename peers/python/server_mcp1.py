"""Interop peer: a Python SDK 1.x `FastMCP` on 127.0.0.1, over Streamable HTTP.

    .peers/py-mcp1/bin/python peers/python/server_mcp1.py --port 8124 [--json-response] [--event-store] [--stateless-http]

Tools: echo (text), add (structured output), count (progress notifications), pixel (image).
Prompt: greet(name). Resource: demo://greeting.
"""

import anyio
from pydantic import BaseModel

from mcp.server.fastmcp import Context, FastMCP, Image
from mcp.server.streamable_http import EventMessage, EventStore

from _common import MemoryEvents, parse_args, tiny_png


class Sum(BaseModel):
    sum: int


class Store(EventStore):
    def __init__(self) -> None:
        self._events = MemoryEvents()

    async def store_event(self, stream_id, message):
        return self._events.store(stream_id, message)

    async def replay_events_after(self, last_event_id, send_callback):
        stream_id, later = self._events.after(last_event_id)
        for event_id, message in later:
            await send_callback(EventMessage(message, event_id))
        return stream_id


def build(port: int, json_response: bool, event_store: bool, stateless_http: bool = False) -> FastMCP:
    server = FastMCP(
        "mcptool-interop-py1",
        host="127.0.0.1",
        port=port,
        json_response=json_response,
        event_store=Store() if event_store else None,
        stateless_http=stateless_http,
    )

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

    @server.tool(description="Returns a 2x2 red PNG")
    def pixel() -> Image:
        return Image(data=tiny_png(), format="png")

    @server.prompt(description="Greets someone by name")
    def greet(name: str) -> str:
        return f"Please greet {name} warmly."

    @server.resource("demo://greeting", name="greeting", mime_type="text/plain")
    def greeting() -> str:
        return "hello from mcp 1"

    return server


if __name__ == "__main__":
    args = parse_args(__doc__.splitlines()[0])
    build(args.port, args.json_response, args.event_store, args.stateless_http).run("streamable-http")
