"""The type stubs reach mypy: code using the API as documented checks clean, and a misuse is
reported at the line it is on (mypy run on the installed package, as a user's editor sees it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GOOD = '''
import mcptool

async def run(url: str) -> str:
    async with mcptool.Tool(url, load_prompts=False, request_timeout=5.0) as tool:
        names: list[str] = [f["name"] for f in tool.functions()]
        out = await tool.invoke(names[0], {"message": "hi"})
    async with mcptool.Client(url, protocol="2026-07-28") as client:
        result = await client.call_tool("echo", {"message": "hi"}, timeout=1.0)
        closed = await client.close()
    try:
        await mcptool.Client(url).connect()
    except mcptool.ConnectError as e:
        assert e.kind == "connect" and e.status is None
    return str(out["text"]) + str(result["content"]) + str(closed["outcome"])
'''

BAD = '''
import mcptool

async def run(url: str) -> None:
    client = mcptool.Client(url, protocol="2024-01-01")
    await client.call_tool(42)
    tool: mcptool.Tool = mcptool.Client(url)
'''


def mypy(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "use_mcptool.py"
    source.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(source)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_documented_use_type_checks(tmp_path: Path) -> None:
    """The README's kind of code passes `mypy --strict` against the stubs."""
    run = mypy(tmp_path, GOOD)
    assert run.returncode == 0, run.stdout + run.stderr


def test_misuse_is_reported_line_by_line(tmp_path: Path) -> None:
    """A protocol that does not exist, a tool name that is not a str and a Client where a
    Tool is expected: each is a mypy error on its own line."""
    run = mypy(tmp_path, BAD)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = {line.split(":")[1] for line in run.stdout.splitlines() if ": error:" in line}
    assert lines == {"5", "6", "7"}, run.stdout
