#!/usr/bin/env python3
"""Python-side benchmark of mcptool against the `mcp` Python SDK (see README.md beside it).

For each protocol era it starts one `mcptool serve` (release binary, 127.0.0.1, a free port,
`--era sessions` or `--era stateless`), measures every client against that server, prints a
table (or `--json`) and stops the server by its pid. Clients:

    python-sdk   mcp.Client(url, mode="legacy" | "2026-07-28"), call_tool
    mcptool      mcptool.Client(url, protocol="sessions" | "2026-07-28"), call_tool
    mcptool-tool mcptool.Tool(url, protocol=...), invoke
    af-mcptool   mcptool.agent_framework.MCPStreamableHTTPTool, FunctionTool.invoke
    af-stock     agent_framework.MCPStreamableHTTPTool, FunctionTool.invoke

Figures (each the median of --runs runs): `echo` calls/s sequential and N-way concurrent on one
instance, connect+close ms per instance, KiB of RSS per open instance.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SERVER = REPO / "target" / "release" / "mcptool"
MESSAGE = "hello"
SDK = "python-sdk"
FIGURES = ("seq", "conc", "lifecycle_ms", "kib")


# --------------------------------------------------------------------------- eras


@dataclass(frozen=True)
class Era:
    """One protocol era: how the server is started and how each client pins it."""

    name: str
    server_era: str  # `mcptool serve --era`
    sdk_mode: str  # mcp.Client(mode=...)
    core_protocol: str  # mcptool.Client / Tool (protocol=...)


ERAS: dict[str, Era] = {
    "sessions": Era("sessions", "sessions", "legacy", "sessions"),
    "2026-07-28": Era("2026-07-28", "stateless", "2026-07-28", "2026-07-28"),
}


# --------------------------------------------------------------------------- clients


class Instance(Protocol):
    """One connected client instance: calls `echo`, and closes."""

    async def call(self) -> None: ...
    async def close(self) -> None: ...


class ResultError(RuntimeError):
    """A call answered with an error result (the figure would be meaningless)."""


Opener = Callable[[str, Era], Awaitable[Instance]]


class SdkInstance:
    """`mcp.Client` (the Python SDK), its era pinned by `mode`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    async def open(cls, url: str, era: Era) -> SdkInstance:
        import mcp

        client = mcp.Client(url, mode=era.sdk_mode)
        await client.__aenter__()
        return cls(client)

    async def call(self) -> None:
        result = await self._client.call_tool("echo", {"message": MESSAGE})
        if result.is_error:
            raise ResultError(str(result.content))

    async def close(self) -> None:
        await self._client.__aexit__(None, None, None)


class CoreClientInstance:
    """`mcptool.Client.call_tool`, its era pinned by `protocol`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    async def open(cls, url: str, era: Era) -> CoreClientInstance:
        import mcptool

        client = mcptool.Client(url, protocol=era.core_protocol)  # type: ignore[arg-type]
        await client.connect()
        return cls(client)

    async def call(self) -> None:
        result = await self._client.call_tool("echo", {"message": MESSAGE})
        if result.get("isError"):
            raise ResultError(str(result))

    async def close(self) -> None:
        await self._client.close()


class CoreToolInstance:
    """`mcptool.Tool.invoke` (connect also loads the tool list), era pinned by `protocol`."""

    def __init__(self, tool: Any) -> None:
        self._tool = tool

    @classmethod
    async def open(cls, url: str, era: Era) -> CoreToolInstance:
        import mcptool

        tool = mcptool.Tool(url, protocol=era.core_protocol)  # type: ignore[arg-type]
        await tool.connect()
        return cls(tool)

    async def call(self) -> None:
        result = await self._tool.invoke("echo", {"message": MESSAGE})
        if result["kind"] != "success":
            raise ResultError(str(result))

    async def close(self) -> None:
        await self._tool.close()


class AgentFrameworkInstance:
    """An agent-framework `MCPStreamableHTTPTool` (stock or mcptool's drop-in), with its
    `echo` function called the way the framework's function loop calls it. The era is the
    server's: both classes negotiate with `mode="auto"` and cannot be pinned."""

    def __init__(self, tool: Any) -> None:
        self._tool = tool
        self._echo = next(f for f in tool.functions if f.name == "echo")

    @classmethod
    async def open_with(cls, tool_class: type[Any], url: str) -> AgentFrameworkInstance:
        tool = tool_class(name="bench", url=url)
        await tool.connect()
        return cls(tool)

    async def call(self) -> None:
        contents = await self._echo.invoke(arguments={"message": MESSAGE})
        if not contents:
            raise ResultError("empty result")

    async def close(self) -> None:
        await self._tool.close()


async def open_af_stock(url: str, era: Era) -> Instance:
    import agent_framework

    return await AgentFrameworkInstance.open_with(agent_framework.MCPStreamableHTTPTool, url)


async def open_af_mcptool(url: str, era: Era) -> Instance:
    from mcptool import agent_framework as dropin

    return await AgentFrameworkInstance.open_with(dropin.MCPStreamableHTTPTool, url)


@dataclass(frozen=True)
class ClientKind:
    name: str
    label: str
    module: str  # imported up front: a missing or broken one is reported, not fatal
    open: Opener


CLIENTS: tuple[ClientKind, ...] = (
    ClientKind(SDK, "mcp.Client (Python SDK)", "mcp", SdkInstance.open),
    ClientKind("mcptool", "mcptool.Client.call_tool", "mcptool", CoreClientInstance.open),
    ClientKind("mcptool-tool", "mcptool.Tool.invoke", "mcptool", CoreToolInstance.open),
    ClientKind("af-mcptool", "AF + mcptool drop-in", "mcptool.agent_framework", open_af_mcptool),
    ClientKind("af-stock", "AF stock MCP tool", "agent_framework", open_af_stock),
)


# --------------------------------------------------------------------------- server


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    stats_url: str
    log_path: Path

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.stats_url, timeout=10) as response:
            stats: dict[str, Any] = json.load(response)
            return stats


def start_server(binary: Path, era: Era, log_dir: Path, extra: Sequence[str] = ()) -> Server:
    """`mcptool serve` on 127.0.0.1, a free port, the era's endpoint; waits for its URL."""
    log_path = log_dir / f"serve-{era.server_era}.log"
    command = [str(binary), "serve", "--host", "127.0.0.1", "--port", "0", "--stats"]
    command += ["--era", era.server_era, *extra]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+\S*)", text)
        stats = re.search(r"stats at (http://127\.0\.0\.1:\d+/stats)", text)
        if url and stats:
            return Server(process, url.group(1), stats.group(1), log_path)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    stop_server(process)
    raise RuntimeError(f"mcptool serve did not start; its output:\n{log_path.read_text(errors='replace')}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the server's pid, then SIGKILL to the same pid if it lingers."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


# --------------------------------------------------------------------------- measurements


async def calls_per_second_sequential(instance: Instance, calls: int, min_seconds: float) -> float:
    """At least `calls` calls one after the other, and for at least `min_seconds`."""
    done = 0
    start = time.perf_counter()
    while done < calls or time.perf_counter() - start < min_seconds:
        await instance.call()
        done += 1
    return done / (time.perf_counter() - start)


async def calls_per_second_concurrent(instance: Instance, calls: int, width: int, min_seconds: float) -> float:
    """`width` tasks share one instance until, together, they made at least `calls` calls
    and `min_seconds` passed."""
    done = 0
    start = time.perf_counter()

    def more() -> bool:
        return done < calls or time.perf_counter() - start < min_seconds

    async def worker() -> None:
        nonlocal done
        while more():
            done += 1  # counted when taken, so the tasks together stop at `calls`
            await instance.call()

    await asyncio.gather(*(worker() for _ in range(width)))
    return done / (time.perf_counter() - start)


async def lifecycle_ms(kind: ClientKind, url: str, era: Era, count: int) -> float:
    """Median wall time of open (connect) + close of one fresh instance."""
    await one_lifecycle(kind, url, era)  # warm-up, not counted
    samples = [await one_lifecycle(kind, url, era) for _ in range(count)]
    return statistics.median(samples) * 1000


async def one_lifecycle(kind: ClientKind, url: str, era: Era) -> float:
    start = time.perf_counter()
    instance = await kind.open(url, era)
    await instance.close()
    return time.perf_counter() - start


_LIBC: Any = None


def settle_memory() -> None:
    """Collects garbage and hands freed malloc memory back, so RSS shows what is live."""
    global _LIBC
    gc.collect()
    gc.collect()
    if _LIBC is None:
        try:
            _LIBC = ctypes.CDLL("libc.so.6")
        except OSError:
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


async def kib_per_open_instance(kind: ClientKind, url: str, era: Era, count: int) -> float:
    """RSS growth with `count` instances open (each connected, one call made), per instance.

    All are opened and closed in this one task, last first (the SDK's anyio scopes need it)."""
    settle_memory()
    before = rss_bytes()
    instances: list[Instance] = []
    try:
        for _ in range(count):
            instances.append(await kind.open(url, era))
            await instances[-1].call()
        settle_memory()
        grown = rss_bytes() - before
    finally:
        for instance in reversed(instances):
            await instance.close()
    return grown / count / 1024


async def memory_figure(kind: ClientKind, url: str, era: Era, count: int) -> float:
    """The memory figure after one warm-up instance (opened, one call, closed), so that what
    a process allocates once for a kind (imports, runtime, caches) is not counted."""
    await kib_per_open_instance(kind, url, era, 1)
    return await kib_per_open_instance(kind, url, era, count)


async def memory_in_child(kind: ClientKind, url: str, era: Era, count: int) -> float:
    """`memory_figure` in a fresh interpreter: in a process that measured anything before,
    the allocators hand the new instances memory that earlier work freed, and the growth
    shrinks from one run to the next (by almost half over four runs for the stock AF tool)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--memory-child", kind.name]
    command += ["--memory-url", url, "--eras", era.name, "--open", str(count)]
    child = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"memory child failed ({child.returncode}): {err.decode(errors='replace')[-2000:]}")
    return float(out.decode().strip().splitlines()[-1])  # the last line: the figure


def memory_child(args: argparse.Namespace) -> int:
    """The child side of `memory_in_child`: prints the figure, then leaves at once (no
    interpreter teardown, where a library's thread once aborted the stock AF's process)."""
    kind = next(k for k in CLIENTS if k.name == args.memory_child)
    quiet_frameworks()
    __import__(kind.module)
    figure = asyncio.run(memory_figure(kind, args.memory_url, ERAS[args.eras], args.open))
    print(figure, flush=True)
    os._exit(0)


@dataclass(frozen=True)
class Config:
    calls: int
    concurrent_calls: int
    concurrency: int
    lifecycles: int
    open: int
    warmup: int
    min_seconds: float


async def measure_calls(kind: ClientKind, url: str, era: Era, config: Config) -> tuple[float, float]:
    """Sequential and concurrent calls/s on one instance (warmed up first)."""
    instance = await kind.open(url, era)
    try:
        for _ in range(config.warmup):
            await instance.call()
        await calls_per_second_concurrent(instance, config.concurrency, config.concurrency, 0)
        seq = await calls_per_second_sequential(instance, config.calls, config.min_seconds)
        conc = await calls_per_second_concurrent(
            instance, config.concurrent_calls, config.concurrency, config.min_seconds
        )
    finally:
        await instance.close()
    return seq, conc


async def measure_client(kind: ClientKind, url: str, era: Era, config: Config) -> dict[str, float]:
    """The figures measured in this process (the memory figure has its own process)."""
    seq, conc = await measure_calls(kind, url, era, config)
    return {"seq": seq, "conc": conc, "lifecycle_ms": await lifecycle_ms(kind, url, era, config.lifecycles)}


# --------------------------------------------------------------------------- the server's view


SERVER_COUNTERS = ("total_connections", "session_era_requests", "stateless_requests", "sessions_opened")


def server_view(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the server saw during one client's measurements: the era its requests spoke,
    TCP connections opened per tools/call, sessions left open."""
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in SERVER_COUNTERS}
    methods = {
        method: count - before["methods"].get(method, 0)
        for method, count in after["methods"].items()
        if count != before["methods"].get(method, 0)
    }
    calls = methods.get("tools/call", 0)
    session, stateless = delta["session_era_requests"], delta["stateless_requests"]
    return {
        "session_era_requests": session,
        "stateless_requests": stateless,
        "tool_calls": calls,
        "connections_per_call": round(delta["total_connections"] / calls, 3) if calls else None,
        "sessions_opened": delta["sessions_opened"],
        "sessions_live_after": after.get("sessions_live", 0),
        "methods": methods,
    }


# --------------------------------------------------------------------------- runs and summary


@dataclass
class Figure:
    runs: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "median": statistics.median(self.runs),
            "min": min(self.runs),
            "max": max(self.runs),
            "runs": self.runs,
            "ratio_to_sdk": statistics.median(self.ratios) if self.ratios else None,
            "ratio_runs": self.ratios,
        }


@dataclass
class ClientResult:
    figures: dict[str, Figure] = field(default_factory=lambda: {f: Figure() for f in FIGURES})
    server: dict[str, Any] | None = None
    error: str | None = None


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"{time.monotonic() - _STARTED:6.1f}s {message}", file=sys.stderr, flush=True)


async def run_era(
    era: Era, server: Server, kinds: Sequence[ClientKind], config: Config, runs: int
) -> dict[str, ClientResult]:
    results = {kind.name: ClientResult() for kind in kinds}
    for run in range(runs):
        measured: dict[str, dict[str, float]] = {}
        for kind in kinds:
            result = results[kind.name]
            if result.error:
                continue
            log(f"[{era.name}] run {run + 1}/{runs}: {kind.name}")
            before = server.stats()
            try:
                measured[kind.name] = await measure_client(kind, server.url, era, config)
            except Exception as error:  # one client failing must not hide the others
                result.error = f"{type(error).__name__}: {error}"
                log(f"  failed: {result.error}")
                continue
            await asyncio.sleep(0.2)  # closed connections reach the server's counters
            if run == 0:
                result.server = server_view(before, server.stats())
        record_run(results, measured)
    await measure_memory(era, server, kinds, config, runs, results)
    return results


async def measure_memory(
    era: Era, server: Server, kinds: Sequence[ClientKind], config: Config, runs: int, results: dict[str, ClientResult]
) -> None:
    """The memory figure of each client, each run in a fresh child process. Nothing is timed
    here, so the children run side by side, one per core."""
    slots = asyncio.Semaphore(os.cpu_count() or 1)
    measured: list[dict[str, dict[str, float]]] = [{} for _ in range(runs)]

    async def one(run: int, kind: ClientKind) -> None:
        async with slots:
            if results[kind.name].error:
                return
            log(f"[{era.name}] memory run {run + 1}/{runs} (a child process): {kind.name}")
            try:
                measured[run][kind.name] = {"kib": await memory_in_child(kind, server.url, era, config.open)}
            except Exception as error:
                results[kind.name].error = f"memory: {type(error).__name__}: {error}"
                log(f"  failed: {results[kind.name].error}")

    await asyncio.gather(*(one(run, kind) for run in range(runs) for kind in kinds if not results[kind.name].error))
    await asyncio.sleep(0.2)
    left_open = server.stats().get("sessions_live", 0)
    for kind in kinds:
        view = results[kind.name].server
        if view is not None:
            view["sessions_live_after_memory"] = left_open
    for figures in measured:
        record_run(results, figures)


def record_run(results: dict[str, ClientResult], measured: dict[str, dict[str, float]]) -> None:
    """Adds one run's figures, and each one's ratio to the SDK's figure of the same run."""
    sdk = measured.get(SDK)
    for name, figures in measured.items():
        for figure, value in figures.items():
            results[name].figures[figure].runs.append(value)
            if sdk and sdk[figure]:
                results[name].figures[figure].ratios.append(value / sdk[figure])


def summarize(results: dict[str, ClientResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, result in results.items():
        entry: dict[str, Any] = {"error": result.error, "server_view": result.server}
        for figure, values in result.figures.items():
            entry[figure] = values.summary() if values.runs else None
        out[name] = entry
    return out


def target_check(eras: dict[str, dict[str, Any]], factor: float) -> dict[str, Any]:
    """Our Python API (Client.call_tool and Tool.invoke) ≥ factor × the SDK's calls/s."""
    checks: dict[str, Any] = {}
    for era, clients in eras.items():
        for name in ("mcptool", "mcptool-tool"):
            for figure in ("seq", "conc"):
                summary = (clients.get(name) or {}).get(figure)
                ratio = summary["ratio_to_sdk"] if summary else None
                checks[f"{era}/{name}/{figure}"] = {"ratio": ratio, "ok": ratio is not None and ratio >= factor}
    return {"factor": factor, "checks": checks, "ok": all(c["ok"] for c in checks.values())}


# --------------------------------------------------------------------------- output


COLUMNS = (
    ("seq", "seq calls/s", "{:,.0f}"),
    ("conc", "{n}-way calls/s", "{:,.0f}"),
    ("lifecycle_ms", "conn+close ms", "{:.2f}"),
    ("kib", "KiB/instance", "{:,.0f}"),
)
LABEL_WIDTH = 26
VALUE_WIDTH = 14
RATIO_WIDTH = 8


def spread_percent(summary: dict[str, Any]) -> float:
    """Half the min–max range, in % of the median."""
    median = summary["median"]
    return abs(summary["max"] - summary["min"]) / 2 / abs(median) * 100 if median else 0.0


def cell(summary: dict[str, Any] | None, fmt: str) -> str:
    """`median ±spread%  ×ratio` for one figure."""
    if summary is None:
        return f"{'—':>{VALUE_WIDTH + 6}}{'':>{RATIO_WIDTH}}"
    ratio = summary["ratio_to_sdk"]
    value = f"{fmt.format(summary['median'])}"
    spread = f"±{spread_percent(summary):.0f}%"
    return f"{value:>{VALUE_WIDTH}}{spread:>6}" + ("" if ratio is None else f"{'×' + format(ratio, '.2f'):>{RATIO_WIDTH}}")


def server_cell(view: dict[str, Any] | None, era: str) -> str:
    """TCP connections per call as the server counted them, and whether the era was right."""
    if not view:
        return ""
    expected = "session_era_requests" if era == "sessions" else "stateless_requests"
    other = "stateless_requests" if era == "sessions" else "session_era_requests"
    left_open = view["sessions_live_after"] + view.get("sessions_live_after_memory", 0)
    era_ok = view[expected] > 0 and view[other] == 0 and left_open == 0
    per_call = view["connections_per_call"]
    return f"{'—' if per_call is None else format(per_call, '.2f'):>9}  {'ok' if era_ok else 'CHECK'}"


def table(report: dict[str, Any]) -> str:
    width = report["config"]["concurrency"]
    json_flag = " --json-responses" if report["config"]["json_responses"] else ""
    lines: list[str] = []
    for era, clients in report["eras"].items():
        lines.append(
            f"\n== {era} era (mcptool serve --era {ERAS[era].server_era}{json_flag}); median ±half-range of "
            f"{report['config']['runs']} runs; × = median per-run ratio to mcp.Client =="
        )
        head = f"{'client':<{LABEL_WIDTH}}"
        head += "".join(f"{title.format(n=width):>{VALUE_WIDTH + 6 + RATIO_WIDTH}}" for _, title, _ in COLUMNS)
        lines.append(head + f"{'conn/call':>11}  era")
        lines.extend(client_row(name, entry, era) for name, entry in clients.items())
    return "\n".join(lines)


def client_row(name: str, entry: dict[str, Any], era: str) -> str:
    label = next(k.label for k in CLIENTS if k.name == name)
    if entry["error"]:
        return f"{label:<{LABEL_WIDTH}}  failed: {entry['error']}"
    cells = "".join(cell(entry[figure], fmt) for figure, _, fmt in COLUMNS)
    return f"{label:<{LABEL_WIDTH}}{cells}  {server_cell(entry.get('server_view'), era)}"


def target_lines(target: dict[str, Any]) -> str:
    marks = [
        f"{key}: ×{c['ratio']:.2f} {'ok' if c['ok'] else 'BELOW'}" if c["ratio"] is not None else f"{key}: n/a"
        for key, c in target["checks"].items()
    ]
    verdict = "holds" if target["ok"] else "does NOT hold"
    return f"\ntarget: our Python API ≥ {target['factor']:g}× mcp.Client's calls/s {verdict}\n  " + "\n  ".join(marks)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported")
    parser.add_argument("--calls", type=int, default=300, help="sequential echo calls per run (at least)")
    parser.add_argument("--concurrent-calls", type=int, default=600, help="concurrent echo calls per run (at least)")
    parser.add_argument("--concurrency", type=int, default=64, help="tasks sharing one instance")
    parser.add_argument("--lifecycles", type=int, default=20, help="connect+close cycles per run")
    parser.add_argument("--open", type=int, default=25, help="instances open at once for the memory figure")
    parser.add_argument("--warmup", type=int, default=50, help="calls before timing, per instance")
    parser.add_argument(
        "--min-seconds", type=float, default=0.5, help="each calls/s figure keeps calling at least this long"
    )
    parser.add_argument("--eras", default=",".join(ERAS), help="comma-separated: sessions,2026-07-28")
    parser.add_argument("--clients", default=",".join(k.name for k in CLIENTS), help="comma-separated client names")
    parser.add_argument("--server", type=Path, default=DEFAULT_SERVER, help="the mcptool binary (release)")
    parser.add_argument("--target", type=float, default=5.0, help="the calls/s factor to check")
    parser.add_argument(
        "--json-responses",
        action="store_true",
        help="start the server with --json-responses (application/json, not text/event-stream)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (machine output) instead of the table")
    parser.add_argument("--json-out", type=Path, help="also write the JSON to this file")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)  # internal: see memory_in_child
    parser.add_argument("--memory-url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def available_clients(names: Sequence[str]) -> tuple[list[ClientKind], dict[str, str]]:
    """The selected clients whose module imports; the others with the import error."""
    import importlib

    kinds, missing = [], {}
    for kind in CLIENTS:
        if kind.name not in names:
            continue
        try:
            importlib.import_module(kind.module)
        except Exception as error:
            missing[kind.name] = f"{type(error).__name__}: {error}"
            continue
        kinds.append(kind)
    if SDK not in [k.name for k in kinds]:
        raise SystemExit("the python-sdk client is needed (every ratio is to its figure)")
    return kinds, missing


def quiet_frameworks() -> None:
    """The benchmark's output stays a table: the frameworks' warnings about the reference
    server (a tool they drop, ping's deprecation at 2026-07-28) are expected and not timed."""
    logging.getLogger("agent_framework").setLevel(logging.ERROR)
    logging.getLogger("mcp").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with contextlib.suppress(ImportError):
        from mcp.shared.exceptions import MCPDeprecationWarning

        warnings.filterwarnings("ignore", category=MCPDeprecationWarning)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for package in ("mcp", "mcptool", "agent-framework-core"):
        with contextlib.suppress(PackageNotFoundError):
            out[package] = version(package)
    return out


def run_all(args: argparse.Namespace, kinds: list[ClientKind], config: Config) -> dict[str, dict[str, Any]]:
    eras: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="mcptool-bench-") as log_dir:
        for era_name in [e.strip() for e in args.eras.split(",") if e.strip()]:
            era = ERAS[era_name]
            extra = ["--json-responses"] if args.json_responses else []
            server = start_server(args.server, era, Path(log_dir), extra)
            log(f"[{era.name}] server pid {server.process.pid} at {server.url}")
            try:
                results = asyncio.run(run_era(era, server, kinds, config, args.runs))
            finally:
                stop_server(server.process)
            eras[era.name] = summarize(results)
    return eras


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args)
    if not args.server.exists():
        raise SystemExit(f"{args.server} is missing: build it with `cargo build --release -p mcptool-cli`")
    quiet_frameworks()
    kinds, missing = available_clients([n.strip() for n in args.clients.split(",")])
    config = Config(
        args.calls, args.concurrent_calls, args.concurrency, args.lifecycles, args.open, args.warmup, args.min_seconds
    )
    started = time.monotonic()
    eras = run_all(args, kinds, config)
    for clients in eras.values():
        for name, error in missing.items():
            clients[name] = {"error": f"not importable: {error}", "server_view": None}
    report: dict[str, Any] = {
        "config": {
            **config.__dict__,
            "runs": args.runs,
            "server": str(args.server),
            "json_responses": args.json_responses,
        },
        "versions": versions(),
        "cpus": os.cpu_count(),
        "seconds": round(time.monotonic() - started, 1),
        "eras": eras,
        "target": target_check(eras, args.target),
    }
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(table(report) + "\n" + target_lines(report["target"]) + f"\n\n({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
