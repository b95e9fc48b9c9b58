"""`mcptool.OAuth` against a real authorization server (oidc-provider, `peers/auth/oidc.mjs`)
and `mcptool serve --auth ISSUER`, which accepts only that issuer's JWT access tokens: the
client credentials grant (secret and private key), the authorization code flow with the
consent page driven by httpx, and what goes wrong without them. Both eras. Each test checks
what the caller got and what both servers saw.

Skipped when the peer is not installed (unless `MCPTOOL_REQUIRE_PEERS` is set: then it fails).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import oidc_support
import pytest
from conftest import Served, Version
from oidc_support import MACHINE_JWT, MACHINE_POST, MACHINE_SECRET, AuthServer

import mcptool

BOUND = 30.0
"""Seconds any OAuth step may take (token requests, the consent page) before it is a hang."""

REDIRECT_URI = "http://127.0.0.1:9/callback"
"""Never fetched: `authorize` returns the redirect URL instead of following it."""

Stats = dict[str, Any]



@pytest.fixture
def auth_server() -> Iterator[AuthServer]:
    """The authorization server, with the `machine-jwt` client's public keys."""
    started = oidc_support.start_auth_server("--client-jwks", str(oidc_support.CLIENT_JWKS))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def protected(serve: Callable[..., Served], auth_server: AuthServer) -> Served:
    """`mcptool serve --auth ISSUER`: both eras, bearer tokens of the issuer required."""
    return serve("--auth", auth_server.issuer)


def auth_stats(stats: Stats) -> Stats:
    return {k: v for k, v in stats.items() if k.startswith("auth_")}


async def stats_of(server: Served) -> Stats:
    return await asyncio.to_thread(server.stats)


def secret_grant(client: tuple[str, str] = MACHINE_SECRET) -> mcptool.OAuth:
    client_id, secret = client
    return mcptool.OAuth.client_credentials(client_id, client_secret=secret)


# --- client credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize("machine", [MACHINE_SECRET, MACHINE_POST], ids=["secret_basic", "secret_post"])
async def test_client_credentials(
    protected: Served, auth_server: AuthServer, protocol: Version, machine: tuple[str, str]
) -> None:
    """With `OAuth.client_credentials` the client gets a token for the server (one token
    request, the server's URL as resource), lists and calls tools; the server counts the one
    401 that started it and accepts every request after."""
    async with mcptool.Client(protected.url, protocol=protocol, oauth=secret_grant(machine)) as client:
        tools = await asyncio.wait_for(client.list_tools(), BOUND)
        echoed = await asyncio.wait_for(client.call_tool("echo", {"message": "authorized"}), BOUND)
    assert "echo" in {t["name"] for t in tools}
    assert echoed["content"] == [{"type": "text", "text": "authorized"}]
    seen = auth_stats(await stats_of(protected))
    assert seen["auth_missing"] == 1 and seen["auth_invalid"] == 0
    assert seen["auth_accepted"] >= 3 and seen["auth_distinct_tokens"] == 1
    issued = auth_server.stats()
    assert issued["token_requests"] == {"client_credentials": 1} and issued["token_errors"] == []
    assert [r["resource"] for r in issued["resources"]] == [protected.url]


@pytest.mark.parametrize("key", [oidc_support.ES256_PEM, oidc_support.RS256_PEM], ids=["es256", "rs256"])
async def test_client_credentials_with_a_private_key(
    protected: Served, auth_server: AuthServer, protocol: Version, key: Any
) -> None:
    """`private_key_pem=` authenticates the client with a signed assertion (private_key_jwt)
    instead of a secret."""
    oauth = mcptool.OAuth.client_credentials(MACHINE_JWT, private_key_pem=key.read_bytes())
    async with mcptool.Client(protected.url, protocol=protocol, oauth=oauth) as client:
        added = await asyncio.wait_for(client.call_tool("add", {"a": 2, "b": 3}), BOUND)
    assert added["structuredContent"] == {"sum": 5.0}
    assert auth_stats(await stats_of(protected))["auth_accepted"] >= 1
    assert auth_server.stats()["token_requests"] == {"client_credentials": 1}


async def test_wrong_secret_is_an_authorization_error(
    protected: Served, auth_server: AuthServer, protocol: Version
) -> None:
    """A wrong client secret is an `AuthorizationError` (a PermissionError too) whose
    `auth_failure` is "token"; the server never accepts a request."""
    oauth = mcptool.OAuth.client_credentials(MACHINE_SECRET[0], client_secret="wrong")
    client = mcptool.Client(protected.url, protocol=protocol, oauth=oauth)
    with pytest.raises(mcptool.AuthorizationError, match="invalid_client") as refused:
        await asyncio.wait_for(client.connect(), BOUND)
    await client.close()
    assert refused.value.auth_failure == "token" and isinstance(refused.value, PermissionError)
    assert auth_stats(await stats_of(protected))["auth_accepted"] == 0
    errors = auth_server.stats()["token_errors"]
    failures = [(e["grant_type"], e["status"], e["error"]) for e in errors]
    assert failures == [("client_credentials", 401, "invalid_client")]


async def test_no_oauth_is_authorization_required(protected: Served, protocol: Version) -> None:
    """Without OAuth the server's 401 is an `AuthorizationError` with `auth_failure`
    "required" and status 401, naming the protected resource metadata."""
    client = mcptool.Client(protected.url, protocol=protocol)
    with pytest.raises(mcptool.AuthorizationError) as required:
        await asyncio.wait_for(client.connect(), BOUND)
    await client.close()
    assert (required.value.auth_failure, required.value.status) == ("required", 401)
    assert "/.well-known/oauth-protected-resource" in str(required.value)
    seen = auth_stats(await stats_of(protected))
    assert (seen["auth_missing"], seen["auth_accepted"]) == (1, 0)


@pytest.mark.parametrize("how", ["bearer_token", "headers"])
async def test_invalid_bearer_token_reaches_the_server(
    protected: Served, protocol: Version, how: str
) -> None:
    """A bearer token given as `bearer_token=` or as a static `Authorization` header is sent:
    the server counts it invalid and the client gets an `AuthorizationError`."""
    options: dict[str, Any] = {"bearer_token": "not-a-jwt"}
    if how == "headers":
        options = {"headers": {"Authorization": "Bearer not-a-jwt"}}
    client = mcptool.Client(protected.url, protocol=protocol, **options)
    with pytest.raises(mcptool.AuthorizationError):
        await asyncio.wait_for(client.connect(), BOUND)
    await client.close()
    seen = auth_stats(await stats_of(protected))
    assert seen["auth_invalid"] >= 1 and seen["auth_missing"] == 0 and seen["auth_accepted"] == 0


async def test_each_client_keeps_its_own_tokens(
    protected: Served, auth_server: AuthServer, protocol: Version
) -> None:
    """One `OAuth` given to two clients: each gets a token of its own (two token requests,
    two distinct tokens at the server)."""
    oauth = secret_grant()
    async with mcptool.Client(protected.url, protocol=protocol, oauth=oauth) as first:
        async with mcptool.Client(protected.url, protocol=protocol, oauth=oauth) as second:
            await first.call_tool("echo", {"message": "one"})
            await second.call_tool("echo", {"message": "two"})
    assert auth_server.token_requests("client_credentials") == 2
    assert auth_stats(await stats_of(protected))["auth_distinct_tokens"] == 2


async def test_tool_with_oauth(protected: Served, protocol: Version) -> None:
    """A `Tool` given OAuth loads its functions and invokes them on the protected server."""
    async with mcptool.Tool(protected.url, protocol=protocol, oauth=secret_grant()) as tool:
        names = {f["name"] for f in tool.functions()}
        out = await asyncio.wait_for(tool.invoke("echo", {"message": "tool"}), BOUND)
    assert "echo" in names and (out["kind"], out["text"]) == ("success", "tool")
    assert auth_stats(await stats_of(protected))["auth_accepted"] >= 2


def test_client_credentials_needs_a_secret_or_a_key() -> None:
    """`client_credentials` without a secret or a private key is a ValueError."""
    with pytest.raises(ValueError, match="client_secret or private_key_pem"):
        mcptool.OAuth.client_credentials("machine-secret")
    assert repr(secret_grant()) == "OAuth.client_credentials(...)"


def test_bad_private_key_is_refused_at_build(protected: Served) -> None:
    """A private key that is not a PEM key is a `ConfigError` when the client is built."""
    oauth = mcptool.OAuth.client_credentials(MACHINE_JWT, private_key_pem="not a key")
    with pytest.raises(mcptool.ConfigError, match="not a P-256 or RSA key in PEM"):
        mcptool.Client(protected.url, oauth=oauth)
    assert auth_stats(protected.stats())["auth_missing"] == 0


# --- authorization code --------------------------------------------------------------------------------


async def test_authorization_code_flow(
    protected: Served, auth_server: AuthServer, protocol: Version
) -> None:
    """`OAuth.authorization_code` registers the client, sends `authorize` to the consent page
    (PKCE S256, the server as resource), exchanges the code it brings back and calls tools."""
    visited: list[str] = []

    async def authorize(url: str) -> str:
        visited.append(url)
        return await oidc_support.consent(url)

    oauth = mcptool.OAuth.authorization_code(authorize, redirect_uri=REDIRECT_URI)
    async with mcptool.Client(protected.url, protocol=protocol, oauth=oauth) as client:
        echoed = await asyncio.wait_for(client.call_tool("echo", {"message": "by code"}), BOUND)
    assert echoed["content"] == [{"type": "text", "text": "by code"}]
    (url,) = visited
    assert url.startswith(f"{auth_server.issuer}/auth?")
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [REDIRECT_URI]
    assert query["resource"] == [protected.url] and query["response_type"] == ["code"]
    issued = auth_server.stats()
    assert issued["consents"] == 1 and issued["token_requests"] == {"authorization_code": 1}
    (registered,) = issued["registrations"]["clients"]
    assert registered["redirect_uris"] == [REDIRECT_URI]
    assert registered["client_id"] == query["client_id"][0]
    seen = auth_stats(await stats_of(protected))
    assert seen["auth_missing"] == 1 and seen["auth_accepted"] >= 1


async def test_authorization_code_denied(
    protected: Served, auth_server: AuthServer, protocol: Version
) -> None:
    """The person denying consent is an `AuthorizationError` with `auth_failure` "denied";
    no token is issued."""

    async def authorize(url: str) -> str:
        return await oidc_support.consent(url, deny=True)

    oauth = mcptool.OAuth.authorization_code(authorize, redirect_uri=REDIRECT_URI)
    client = mcptool.Client(protected.url, protocol=protocol, oauth=oauth)
    with pytest.raises(mcptool.AuthorizationError) as denied:
        await asyncio.wait_for(client.connect(), BOUND)
    await client.close()
    assert denied.value.auth_failure == "denied"
    issued = auth_server.stats()
    assert issued["denials"] == 1 and issued["token_requests"] == {}
    assert auth_stats(await stats_of(protected))["auth_accepted"] == 0


async def test_authorize_that_raises(protected: Served, auth_server: AuthServer, protocol: Version) -> None:
    """An `authorize` function that raises fails the connection with an `AuthorizationError`
    naming its exception, without hanging."""

    async def authorize(url: str) -> str:
        raise RuntimeError("the browser is gone")

    oauth = mcptool.OAuth.authorization_code(authorize, redirect_uri=REDIRECT_URI)
    client = mcptool.Client(protected.url, protocol=protocol, oauth=oauth)
    with pytest.raises(mcptool.AuthorizationError, match="RuntimeError: the browser is gone"):
        await asyncio.wait_for(client.connect(), BOUND)
    await client.close()
    assert auth_server.stats()["token_requests"] == {}
