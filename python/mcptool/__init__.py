"""mcptool: MCP servers over Streamable HTTP for AI agents, from Python.

Every `Client` and `Tool` owns its MCP session (when the protocol era has one) and its HTTP
connection pool, and `close()` ends both. The protocol work runs in mcptool's Rust core;
this package is its async Python face:

    import mcptool

    async with mcptool.Tool("http://127.0.0.1:8081/mcp") as tool:
        print([f["name"] for f in tool.functions()])
        out = await tool.invoke("echo", {"message": "hi"})
        print(out["text"])

Drop-in tools for the agent frameworks live in `mcptool.agent_framework` and
`mcptool.openai_agents` (each needs its framework installed).
"""

from __future__ import annotations

import atexit

from mcptool._native import Client, OAuth, Tool, __version__
from mcptool._native import shutdown as _shutdown
from mcptool.errors import (
    AuthorizationError,
    CancelledError,
    ClosedError,
    ConfigError,
    ConnectError,
    Error,
    HttpStatusError,
    NetworkError,
    ProtocolError,
    RpcError,
    SessionExpiredError,
    TimeoutError,
    TlsError,
)

# At interpreter exit the core's threads must stop touching Python before it finalizes.
atexit.register(_shutdown)

__all__ = [
    "AuthorizationError",
    "CancelledError",
    "Client",
    "ClosedError",
    "ConfigError",
    "ConnectError",
    "Error",
    "HttpStatusError",
    "NetworkError",
    "OAuth",
    "ProtocolError",
    "RpcError",
    "SessionExpiredError",
    "TimeoutError",
    "TlsError",
    "Tool",
    "__version__",
]
