"""Completes the asyncio futures of the native module's calls, on their event loop.

The Rust core finishes a call on one of its own threads; it hands the outcome to the call's
loop with `loop.call_soon_threadsafe(resolve, future, ok, value)`, so that the future is only
ever touched from its loop's thread, as asyncio requires.
"""

from __future__ import annotations

import asyncio
from typing import Any


def resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Sets the outcome, unless the future is already done (cancelled by its awaiter)."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
