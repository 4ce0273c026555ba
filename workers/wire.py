"""Newline-delimited JSON between a tool's process and the broker, with no pickle anywhere.

Values JSON cannot carry travel as one-key tagged objects and come back as the same type:

| Python | on the wire |
| --- | --- |
| `datetime` | `{"$dt": "2024-05-01T12:00:00+00:00"}` |
| `bytes` | `{"$b64": "aGk="}` |
| `Decimal` | `{"$dec": "1.5"}` |

A one-key object whose key is one of these tags is always read as the tagged value; AWS responses
never use such keys. Every message is one line of at most `MAX_MESSAGE_BYTES`.
"""

from __future__ import annotations

import base64
import json
import socket
from datetime import datetime
from decimal import Decimal
from typing import Any

MAX_MESSAGE_BYTES = 32 * 1024 * 1024


class WireError(Exception):
    """A message that cannot be framed: too large, not JSON, or a value with no wire form."""


def _tag(value: Any) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, bytes | bytearray):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    raise TypeError(f"{type(value).__name__} cannot be sent over the wire")


_UNTAG = {
    "$dt": datetime.fromisoformat,
    "$b64": base64.b64decode,
    "$dec": Decimal,
}


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        (name, raw), = obj.items()
        if name in _UNTAG and isinstance(raw, str):
            return _UNTAG[name](raw)
    return obj


def encode(message: Any, max_bytes: int = MAX_MESSAGE_BYTES) -> bytes:
    """One message as one line, newline included."""
    try:
        line = json.dumps(message, default=_tag, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise WireError(str(exc)) from exc
    if len(line) >= max_bytes:
        raise WireError(f"message of {len(line)} bytes exceeds the {max_bytes} byte limit")
    return line + b"\n"


def decode(line: bytes) -> Any:
    """The message carried by one line."""
    try:
        return json.loads(line, object_hook=_untag)
    except ValueError as exc:
        raise WireError(f"malformed message: {exc}") from exc


class Channel:
    """Message framing over a connected stream socket (one end of a socketpair)."""

    def __init__(self, sock: socket.socket, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._max_bytes = max_bytes

    def send(self, message: Any) -> None:
        self.send_line(encode(message, self._max_bytes))

    def send_line(self, line: bytes) -> None:
        """Send an already encoded message, for callers that must react to `encode` failing first."""
        self._sock.sendall(line)

    def receive(self, timeout: float | None = None) -> Any | None:
        """The next message, or None once the peer has closed its end.

        A `TimeoutError` leaves the channel unusable: the caller is expected to give up on the peer.
        """
        self._sock.settimeout(timeout)
        line = self._reader.readline(self._max_bytes + 1)
        if not line:
            return None
        if not line.endswith(b"\n"):
            raise WireError("message too large or truncated")
        return decode(line)

    def close(self) -> None:
        self._reader.close()
        self._sock.close()
