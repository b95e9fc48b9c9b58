"""Helpers of the agent-framework tests: a scripted chat client, a header-recording relay and
stats helpers that know what the stats request itself counts.

Not a conftest: the fixtures there are the lead's; these are plain classes and functions.
(`support.py` has the bridge tests' helpers; both are used.)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from agent_framework import BaseChatClient, ChatResponse, Content, FunctionInvocationLayer, Message

WAIT = 20.0
"""The bound of every wait in these tests, in seconds."""


def mcp_connections(stats: Mapping[str, Any]) -> int:
    """Open connections other than the one carrying this stats request.

    The stats endpoint shares the server's listener, so every snapshot counts its own
    connection; what a client left open is the rest."""
    return int(stats["open_connections"]) - 1


def connections_closed(stats: Mapping[str, Any]) -> bool:
    return mcp_connections(stats) == 0


def status_count(stats: Mapping[str, Any], status: int) -> int:
    return int(stats["status_counts"].get(str(status), 0))


def result_text(result: Any) -> str:
    """The text of a framework tool result (a str, or a list of `Content`)."""
    if isinstance(result, str):
        return result
    return "".join(c.text or "" for c in result if c.type == "text")


class ScriptedChatClient(FunctionInvocationLayer, BaseChatClient):  # type: ignore[misc]
    """A model that first asks for one function call, then answers with the text of the
    result it got back: enough to drive a real `Agent` run through an MCP tool."""

    def __init__(
        self, function: str, arguments: Mapping[str, Any], *, reply: str = "tool said: "
    ) -> None:
        super().__init__()
        self.function = function
        self.arguments = dict(arguments)
        self.reply = reply
        self.turns = 0
        self.results: list[str] = []
        self.sampled: list[str] = []

    async def _respond(self, messages: Sequence[Message]) -> ChatResponse:
        self.turns += 1
        results = [c for m in messages for c in m.contents if c.type == "function_result"]
        if not results:
            call = Content.from_function_call(
                call_id=f"call-{self.turns}", name=self.function, arguments=self.arguments
            )
            return ChatResponse(messages=[Message(role="assistant", contents=[call])])
        text = str(results[-1].result)
        self.results.append(text)
        return ChatResponse(messages=[Message(role="assistant", contents=[self.reply + text])])

    def _inner_get_response(
        self, *, messages: Sequence[Message], stream: bool, options: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        if stream:
            raise NotImplementedError("the scripted client does not stream")
        return self._respond(messages)


class SamplingChatClient(BaseChatClient):  # type: ignore[misc]
    """The model a server's sampling request reaches: answers with a fixed text, records
    the prompts."""

    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer
        self.prompts: list[str] = []

    async def _respond(self, messages: Sequence[Message]) -> ChatResponse:
        self.prompts.append(" ".join(m.text for m in messages))
        return ChatResponse(messages=[Message(role="assistant", contents=[self.answer])], model="scripted")

    def _inner_get_response(
        self, *, messages: Sequence[Message], stream: bool, options: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        if stream:
            raise NotImplementedError("the sampling client does not stream")
        return self._respond(messages)


_HEADER = re.compile(rb"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$")


@dataclass
class RequestHead:
    """One HTTP request as it went through the relay: its method, path and headers."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class _HeadParser:
    """Splits a client→server byte stream into request heads, skipping bodies."""

    def __init__(self, sink: list[RequestHead]) -> None:
        self.buffer = b""
        self.body_left = 0
        self.chunked = False
        self.sink = sink

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while self._step():
            pass

    def _step(self) -> bool:
        if self.body_left:
            taken = min(self.body_left, len(self.buffer))
            self.buffer, self.body_left = self.buffer[taken:], self.body_left - taken
            return bool(self.buffer) and self.body_left == 0
        if self.chunked:
            end = self.buffer.find(b"0\r\n\r\n")
            if end < 0:
                return False
            self.buffer, self.chunked = self.buffer[end + 5 :], False
            return True
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
        self._record(head)
        return True

    def _record(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        method, path, _ = (lines[0].decode("latin-1").split(" ", 2) + ["", ""])[:3]
        request = RequestHead(method=method, path=path)
        for line in lines[1:]:
            match = _HEADER.match(line)
            if match:
                request.headers[match.group(1).decode().lower()] = match.group(2).decode("latin-1")
        self.sink.append(request)
        self.body_left = int(request.headers.get("content-length", "0") or 0)
        self.chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()


class HeaderRecorder:
    """A TCP relay on 127.0.0.1 in front of an MCP server that records every request head,
    so a test can see which headers the client really sent (the server's stats do not)."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.path = parts.path
        self.requests: list[RequestHead] = []
        self._server: asyncio.AbstractServer | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        """Starts listening; returns the URL to give the client."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}{self.path}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def with_header(self, name: str) -> list[RequestHead]:
        return [r for r in self.requests if name.lower() in r.headers]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        parser = _HeadParser(self.requests)
        up = asyncio.create_task(self._pipe(reader, up_writer, parser))
        down = asyncio.create_task(self._pipe(up_reader, writer, None))
        self._pipes.update((up, down))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            for w in (writer, up_writer):
                w.close()
            self._pipes.difference_update((up, down))

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, parser: _HeadParser | None
    ) -> None:
        while data := await reader.read(65536):
            if parser is not None:
                parser.feed(data)
            writer.write(data)
            await writer.drain()
