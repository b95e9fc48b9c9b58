"""Pieces shared by the two peer server scripts: argument parsing, a tiny PNG, an event store.

Only the standard library is used here, so both SDK majors can import it.
"""

import argparse
import itertools
import struct
import zlib


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument(
        "--json-response",
        action="store_true",
        help="answer POSTs with application/json instead of an SSE stream",
    )
    parser.add_argument(
        "--event-store",
        action="store_true",
        help="keep SSE events in memory so that clients can resume with Last-Event-ID",
    )
    parser.add_argument(
        "--stateless-http",
        action="store_true",
        help="serve the session era without sessions (no Mcp-Session-Id; every POST stands alone)",
    )
    return parser.parse_args()


def tiny_png() -> bytes:
    """A valid 2x2 RGB PNG, built here so that nothing is read from disk or network."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class MemoryEvents:
    """Events per stream, in arrival order, for SSE resumption (unbounded: test use only)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._events: list[tuple[str, str, object]] = []

    def store(self, stream_id: str, message: object) -> str:
        event_id = f"{stream_id}:{next(self._ids)}"
        self._events.append((event_id, stream_id, message))
        return event_id

    def after(self, last_event_id: str) -> tuple[str | None, list[tuple[str, object]]]:
        for index, (event_id, stream_id, _) in enumerate(self._events):
            if event_id == last_event_id:
                later = [
                    (eid, msg)
                    for eid, sid, msg in self._events[index + 1 :]
                    if sid == stream_id and msg is not None
                ]
                return stream_id, later
        return None, []
