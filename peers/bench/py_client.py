"""The Python SDK client for mcptool's side-by-side benchmark (crates/mcptool-bench).

Runs the benchmark's three phases against --url and prints {"runs": [<figures>, ...]} on stdout:
sequential tools/call calls/s with p50/p99 latency, calls/s with --concurrency callers sharing
one session, and the median connect + initialize + close time. Every loop stops at its count or
at --time-limit seconds. Run it with .peers/py-mcp2/bin/python (scripts/install-peers.sh).

--protocol 2026-07-28 measures the SDK's stateless era instead: `Client(url, mode="2026-07-28")`
(no initialize, no session), and a lifecycle is entering it, `server/discover` through
`session.send_discover` + `adopt`, and leaving it (no DELETE: there is no session).
"""

import argparse
import asyncio
import json
import math
import sys
import time
from contextlib import AsyncExitStack

import mcp_types as types
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

MODERN = "2026-07-28"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--concurrent-calls", type=int, default=20000)
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--protocol", choices=["session", MODERN], default="session")
    return parser.parse_args()


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    rank = min(max(math.ceil(q * len(sorted_values)), 1), len(sorted_values))
    return sorted_values[rank - 1]


Caller = ClientSession | Client


async def connect(url: str, protocol: str) -> tuple[AsyncExitStack, Caller]:
    stack = AsyncExitStack()
    if protocol == MODERN:
        client = await stack.enter_async_context(Client(url, mode=MODERN))
        discovered = types.DiscoverResult.model_validate(await client.session.send_discover(MODERN))
        if MODERN not in discovered.supported_versions:
            raise RuntimeError(f"the server does not offer {MODERN}: {discovered.supported_versions}")
        client.session.adopt(discovered)
        return stack, client
    read, write = await stack.enter_async_context(streamable_http_client(url))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    return stack, session


async def call(caller: Caller) -> None:
    result = await caller.call_tool("echo", {"message": "hi"})
    if result.is_error:
        raise RuntimeError("the echo tool reported an error")


async def lifecycle(url: str, protocol: str) -> None:
    stack, _ = await connect(url, protocol)
    # Session era: sends DELETE (terminate_on_close) and closes the HTTP client.
    await stack.aclose()


async def one_run(args: argparse.Namespace) -> dict[str, float]:
    stack, session = await connect(args.url, args.protocol)
    for _ in range(args.calls // 10):
        await call(session)
    samples: list[float] = []
    start = time.perf_counter()
    while len(samples) < args.calls and time.perf_counter() - start < args.time_limit:
        t = time.perf_counter()
        await call(session)
        samples.append((time.perf_counter() - t) * 1e6)
    seq_elapsed = time.perf_counter() - start
    samples.sort()

    tickets = 0
    done = 0
    start = time.perf_counter()

    async def worker() -> None:
        nonlocal tickets, done
        while tickets < args.concurrent_calls and time.perf_counter() - start < args.time_limit:
            tickets += 1
            await call(session)
            done += 1

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    conc_elapsed = time.perf_counter() - start
    await stack.aclose()

    await lifecycle(args.url, args.protocol)  # untimed warm-up round
    lifecycles: list[float] = []
    start = time.perf_counter()
    while len(lifecycles) < args.lifecycles and time.perf_counter() - start < args.time_limit:
        t = time.perf_counter()
        await lifecycle(args.url, args.protocol)
        lifecycles.append((time.perf_counter() - t) * 1e3)
    lifecycles.sort()
    return {
        "sequential_calls_per_s": len(samples) / seq_elapsed,
        "concurrent_calls_per_s": done / conc_elapsed,
        "p50_us": percentile(samples, 0.5),
        "p99_us": percentile(samples, 0.99),
        "connect_close_ms": percentile(lifecycles, 0.5),
    }


async def main() -> None:
    args = parse_args()
    runs = [await one_run(args) for _ in range(args.runs)]
    sys.stdout.write(json.dumps({"runs": runs}) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
