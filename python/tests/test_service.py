"""The report's service, for real: a FastAPI app under uvicorn on 127.0.0.1 whose endpoint makes
one drop-in tool per request, connects it, calls a tool and closes it; driven with httpx, 200
requests one after another and 50 at once, in the session era and in 2026-07-28. Then a
long-lived `Agent` given a fresh tool on each run. The figures are printed (run with `-s`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import agent_framework
import httpx
import uvicorn
from agent_framework import Agent
from fastapi import FastAPI

from af_support import ScriptedChatClient, connections_closed, mcp_connections, result_text, status_count
from conftest import Served
from mcptool.agent_framework import MCPStreamableHTTPTool

SEQUENTIAL = 200
CONCURRENT = 50
AGENT_RUNS = 20
BUDGET = 60.0
"""Seconds one test may take at most (each bounded wait is shorter)."""


@contextmanager
def served_app(app: FastAPI) -> Iterator[str]:
    """Runs `app` under uvicorn in a thread on a free 127.0.0.1 port; yields its base URL and
    stops it (and its thread) at the end."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), "uvicorn did not stop"


class Watcher:
    """Polls the MCP server's stats in a thread to record the most connections open at once
    (less the stats request's own)."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.max_open = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.max_open = max(self.max_open, mcp_connections(self.served.stats()))
            self._stop.wait(0.02)


def per_request_app(mcp_url: str) -> FastAPI:
    """The report's service: one tool per request, connected, called and closed."""
    app = FastAPI()

    @app.get("/whoami")
    async def whoami() -> dict[str, str]:
        tool = MCPStreamableHTTPTool(name="demo", url=mcp_url, load_prompts=False)
        async with tool:
            result = await asyncio.wait_for(tool.call_tool("whoami"), 20)
        return {"session": result_text(result)}

    return app


@dataclass
class Load:
    statuses: list[int]
    sessions: list[str]
    seconds: float


async def drive(base: str, sequential: int, concurrent: int) -> Load:
    """`sequential` requests one after another, then `concurrent` at once."""
    started = time.monotonic()
    width = max(concurrent, 1)
    limits = httpx.Limits(max_connections=width, max_keepalive_connections=width)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        responses = [await http.get("/whoami") for _ in range(sequential)]
        responses += await asyncio.wait_for(
            asyncio.gather(*(http.get("/whoami") for _ in range(concurrent))), BUDGET / 2
        )
    sessions = [r.json()["session"] for r in responses if r.status_code == 200]
    return Load([r.status_code for r in responses], sessions, time.monotonic() - started)


def figures(label: str, stats: dict[str, Any], load: Load, watcher: Watcher) -> None:
    print(f"\n{label}: " + json.dumps({
        "requests": len(load.statuses),
        "all_200": all(s == 200 for s in load.statuses),
        "seconds": round(load.seconds, 2),
        "sessions_opened": stats["sessions_opened"],
        "sessions_deleted": stats["sessions_deleted"],
        "sessions_live": stats["sessions_live"],
        "max_open_connections": watcher.max_open,
        "open_connections_after": mcp_connections(stats),
        "total_connections": stats["total_connections"],
        "status_counts": stats["status_counts"],
        "stateless_requests": stats["stateless_requests"],
        "session_era_requests": stats["session_era_requests"],
    }))


def test_service_one_tool_per_request_sessions_era(serve: Callable[..., Served]) -> None:
    served = serve("--era", "sessions")
    total = SEQUENTIAL + CONCURRENT
    with served_app(per_request_app(served.url)) as base, Watcher(served) as watcher:
        load = asyncio.run(drive(base, SEQUENTIAL, CONCURRENT))
    stats = served.wait_for(lambda s: connections_closed(s) and s["sessions_deleted"] >= total, 10)
    figures("drop-in, session era", stats, load, watcher)
    assert load.statuses == [200] * total
    assert len(set(load.sessions)) == total, "two requests shared a session"
    assert stats["sessions_opened"] == total and stats["sessions_deleted"] == total
    assert stats["deletes"] == total and stats["sessions_live"] == 0
    assert status_count(stats, 409) == 0 and status_count(stats, 404) == 0
    assert mcp_connections(stats) == 0
    assert load.seconds < BUDGET


def test_service_one_tool_per_request_stateless_era(serve: Callable[..., Served]) -> None:
    served = serve("--era", "stateless")
    total = SEQUENTIAL + CONCURRENT
    with served_app(per_request_app(served.url)) as base, Watcher(served) as watcher:
        load = asyncio.run(drive(base, SEQUENTIAL, CONCURRENT))
    stats = served.wait_for(connections_closed, 10)
    figures("drop-in, 2026-07-28", stats, load, watcher)
    assert load.statuses == [200] * total
    methods = stats["methods"]
    print(f"  stateless requests per service request: {stats['stateless_requests'] / total:g} ({methods})")
    # One discovery and one call per service request, every request of the era's own kind.
    assert methods.get("tools/call") == total and methods.get("server/discover") == total
    assert stats["stateless_requests"] == sum(methods.values())
    assert stats["sessions_opened"] == 0 and stats["session_era_requests"] == 0
    assert all(int(code) < 400 for code in stats["status_counts"])
    assert mcp_connections(stats) == 0
    assert load.seconds < BUDGET


# --- a long-lived Agent with a fresh tool per run -------------------------------------------


def agent_app(mcp_url: str, make_tool: Callable[[str], Any], close_each: bool) -> tuple[FastAPI, Agent]:
    """One Agent for the service's life; each request gives it a new MCP tool for its run.
    `close_each`: the request closes its tool (`async with`), else the Agent is left to."""
    agent = Agent(client=ScriptedChatClient("whoami", {}), name="service-agent")
    app = FastAPI()

    @app.get("/whoami")
    async def whoami() -> dict[str, str]:
        tool = make_tool(mcp_url)
        if close_each:
            async with tool:
                response = await asyncio.wait_for(agent.run("who am i", tools=[tool]), 20)
        else:
            response = await asyncio.wait_for(agent.run("who am i", tools=[tool]), 20)
        return {"session": response.text}

    @app.post("/close-agent")
    async def close_agent() -> dict[str, bool]:
        # On the service's own loop: the tools the Agent connected live there.
        await asyncio.wait_for(agent.close(), 30)
        return {"closed": True}

    return app, agent


@dataclass
class AgentService:
    load: Load
    during: dict[str, Any]
    after_close: dict[str, Any]


def run_agent_service(served: Served, make_tool: Callable[[str], Any], close_each: bool) -> AgentService:
    """AGENT_RUNS requests through one Agent; the stats after them, and after the Agent closed."""
    app, _ = agent_app(served.url, make_tool, close_each)
    with served_app(app) as base:
        load = asyncio.run(drive(base, AGENT_RUNS, 0))
        during = served.wait_for(lambda s: s["sessions_deleted"] + s["sessions_live"] >= AGENT_RUNS, 10)
        if close_each:
            during = served.wait_for(lambda s: s["sessions_live"] == 0 and connections_closed(s), 10)
        closed = httpx.post(base + "/close-agent", timeout=40)
        assert closed.status_code == 200
        after = served.wait_for(lambda s: s["sessions_live"] == 0 and connections_closed(s), 10)
    return AgentService(load, during, after)


def stock_tool(url: str) -> Any:
    return agent_framework.MCPStreamableHTTPTool(name="demo", url=url, load_prompts=False)


def our_tool(url: str) -> Any:
    return MCPStreamableHTTPTool(name="demo", url=url, load_prompts=False)


def print_agent(label: str, load: Load, stats: dict[str, Any]) -> None:
    print(f"\n{label}: " + json.dumps({
        "runs": len(load.statuses),
        "seconds": round(load.seconds, 2),
        "sessions_opened": stats["sessions_opened"],
        "sessions_deleted": stats["sessions_deleted"],
        "sessions_live": stats["sessions_live"],
        "open_connections": mcp_connections(stats),
    }))


def test_long_lived_agent_keeps_run_tools_it_connected(serve: Callable[..., Served]) -> None:
    """A tool the Agent connected for a run goes into the Agent's own exit stack: it stays
    connected until the Agent closes. With one Agent for the whole service that is one live
    session per request so far, for the stock class and for the drop-in alike; a tool the
    request closes itself (`async with tool:`) does not pile up (the next test)."""
    for label, make in (("stock", stock_tool), ("drop-in", our_tool)):
        served = serve("--era", "sessions")
        seen = run_agent_service(served, make, close_each=False)
        print_agent(f"long-lived Agent, run tools left to the Agent ({label})", seen.load, seen.during)
        print_agent(f"  ... after agent.close() ({label})", seen.load, seen.after_close)
        assert seen.load.statuses == [200] * AGENT_RUNS
        assert len(set(seen.load.sessions)) == AGENT_RUNS
        assert seen.during["sessions_opened"] == AGENT_RUNS
        assert seen.during["sessions_live"] == AGENT_RUNS, "run tools were closed before the Agent"
        assert seen.after_close["sessions_deleted"] == AGENT_RUNS
        assert mcp_connections(seen.after_close) == 0


def test_long_lived_agent_with_tools_closed_per_request(serve: Callable[..., Served]) -> None:
    for label, make in (("stock", stock_tool), ("drop-in", our_tool)):
        served = serve("--era", "sessions")
        seen = run_agent_service(served, make, close_each=True)
        stats = seen.during
        print_agent(f"long-lived Agent, each request closes its tool ({label})", seen.load, stats)
        assert seen.load.statuses == [200] * AGENT_RUNS
        assert len(set(seen.load.sessions)) == AGENT_RUNS
        assert stats["sessions_opened"] == AGENT_RUNS and stats["sessions_deleted"] == AGENT_RUNS
        assert stats["sessions_live"] == 0 and mcp_connections(stats) == 0
        assert status_count(stats, 409) == 0 and status_count(stats, 404) == 0
