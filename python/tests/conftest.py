"""Fixtures of the Python tests: real `mcptool serve` processes on 127.0.0.1, with their stats.

`serve(*args)` starts one (its extra command-line arguments, e.g. `--era stateless`) and
stops it at the end of the test; `server` is one serving both eras. `Served.stats()` is what
the server saw (sessions opened and deleted, open connections, status counts...).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mcptool_bin() -> str:
    """The `mcptool` binary: $MCPTOOL_BIN, else the workspace's debug build."""
    path = os.environ.get("MCPTOOL_BIN") or str(ROOT / "target" / "debug" / "mcptool")
    if not Path(path).exists():
        found = shutil.which("mcptool")
        if found is None:
            raise RuntimeError(f"{path} not found: build it with `cargo build -p mcptool-cli`")
        path = found
    return path


@dataclass
class Served:
    """A running `mcptool serve`."""

    url: str
    stats_url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, Any]:
        """What the server saw. `open_connections` counts the connection of this very
        request too: an idle server reports 1."""
        with urllib.request.urlopen(self.stats_url, timeout=5) as response:
            return cast(dict[str, Any], json.load(response))

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """Polls the stats until `predicate` holds (closed sockets take a moment to be seen);
        returns the last snapshot either way, for the test's own assertion."""
        deadline = time.monotonic() + timeout
        while True:
            snapshot = self.stats()
            if predicate(snapshot) or time.monotonic() > deadline:
                return snapshot
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(*args: str) -> Served:
    """Starts `mcptool serve --port 0 --stats ARGS` on 127.0.0.1 and waits for its URL."""
    process = subprocess.Popen(
        [mcptool_bin(), "serve", "--host", "127.0.0.1", "--port", "0", "--stats", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    url = stats_url = None
    deadline = time.monotonic() + 20
    while (url is None or stats_url is None) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("mcptool-server listening on "):
            url = line.split(" on ", 1)[1].strip()
        elif line.startswith("stats at "):
            stats_url = line.split(" at ", 1)[1].strip()
    if url is None or stats_url is None:
        process.kill()
        raise RuntimeError(f"mcptool serve {' '.join(args)} did not start")
    return Served(url=url, stats_url=stats_url, process=process)


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = start_server(*args)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture
def server(serve: Callable[..., Served]) -> Served:
    """A server speaking both eras (sessions and 2026-07-28) on one endpoint."""
    return serve()


@pytest.fixture(params=["sessions", "stateless"])
def era_server(request: pytest.FixtureRequest, serve: Callable[..., Served]) -> Served:
    """Once with a session-era-only server, once with a 2026-07-28-only one."""
    return serve("--era", request.param)


SESSIONS: Literal["2025-11-25"] = "2025-11-25"
STATELESS: Literal["2026-07-28"] = "2026-07-28"
Version = Literal["auto", "2025-11-25", "2026-07-28"]


@pytest.fixture(params=[SESSIONS, STATELESS])
def protocol(request: pytest.FixtureRequest) -> Version:
    """The protocol version a test's clients and tools speak: once per era."""
    return cast(Version, request.param)


TEST_BOUND = 90.0
"""Seconds a whole async test may take: past it the test fails with a TimeoutError instead of
hanging the suite."""


def _bounded(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> None:
        await asyncio.wait_for(test(*args, **kwargs), TEST_BOUND)

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Bounds every async test of the suite by `TEST_BOUND`."""
    for item in items:
        test = getattr(item, "obj", None)
        if inspect.iscoroutinefunction(test):
            item.obj = _bounded(test)  # type: ignore[attr-defined]
