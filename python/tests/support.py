"""Helpers shared by the bridge and drop-in tests: what "nothing left open" means, and a
plain HTTP server (not MCP) that counts its open connections."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOUND = 15.0
"""Seconds any single step may take before a test calls it a hang."""


JsonObject = dict[str, Any]
Stats = dict[str, Any]


def is_session_era(protocol: str) -> bool:
    """Whether `protocol` (a `Version`) is of the session era."""
    return protocol != "2026-07-28"


def client_connections(stats: Stats) -> int:
    """TCP connections open at the server besides the `/stats` request being answered."""
    return int(stats["open_connections"]) - 1


def idle(stats: dict[str, Any]) -> bool:
    """No connection of the client under test is open. The stats request is itself a
    connection the server counts while it answers, hence at most one."""
    return bool(stats["open_connections"] <= 1)


@dataclass
class PlainServer:
    """A web server that answers every request with a small HTML page."""

    url: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    open_connections: int = 0
    total_connections: int = 0
    requests: list[str] = field(default_factory=list)

    def opened(self) -> None:
        with self.lock:
            self.open_connections += 1
            self.total_connections += 1

    def closed(self) -> None:
        with self.lock:
            self.open_connections -= 1


def _handler(state: list[PlainServer]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a connection the client keeps stays visible

        def setup(self) -> None:
            super().setup()
            state[0].opened()

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                state[0].closed()

        def _page(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state[0].requests.append(f"{self.command} {self.path}")
            body = b"<html><body>Just a web page</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _page

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client resetting its connection is no news here


@contextmanager
def plain_http_server() -> Iterator[PlainServer]:
    """Runs a `PlainServer` on 127.0.0.1 (a free port) for the block."""
    state: list[PlainServer] = []
    httpd = _QuietServer(("127.0.0.1", 0), _handler(state))
    state.append(PlainServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/mcp"))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state[0]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    """Polls `predicate()` until it holds or `timeout` passes; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


async def stats_when(served: Any, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
    """`served.wait_for` off the event loop, so that the loop's own tasks (the bridge's) keep
    running while the test waits for the server to see their effect."""
    stats: dict[str, Any] = await asyncio.to_thread(served.wait_for, predicate, timeout)
    return stats


def era_of(served: Any) -> str:
    """The `--era` a test server was started with ("both" when none)."""
    args = list(served.process.args)
    return str(args[args.index("--era") + 1]) if "--era" in args else "both"


def cancelled(stats: dict[str, Any]) -> int:
    """Requests the server saw cancelled: by `notifications/cancelled` in the session era, by
    the client closing the request's stream in the 2026-07-28 era."""
    return int(stats["cancelled_requests"]) + int(stats["works_cancelled_by_close"])
