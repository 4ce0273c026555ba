"""Scrub secrets from anything headed for Claude, a chat thread or a log.

Two nets: the exact values of the worker's secret settings, and the shapes common credentials take
(Slack tokens, Anthropic keys, AWS keys, private-key blocks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
MAX_RESULT_CHARS = 60_000

_PATTERNS = [
    re.compile(r"xox[abposre]-[A-Za-z0-9-]{8,}"),
    re.compile(r"xapp-[A-Za-z0-9-]{8,}"),
    re.compile(r"sk-ant-[A-Za-z0-9_-]{8,}"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"(?i)(aws_secret_access_key|secretaccesskey|aws_session_token|sessiontoken)(\W{1,4})[A-Za-z0-9/+=]{16,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace secret values and credential shapes with a marker."""
    for value in secrets:
        if value:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def cap(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """Keep what goes back to Claude bounded, and say that it was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [cut: {len(text) - limit} more characters; the full data is in the evidence files]"


def redact_value(value: Any, secrets: Iterable[str] = ()) -> Any:
    """`redact` applied to every string (keys included) of a JSON-like value."""
    secrets = list(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact_value(k, secrets): redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, secrets) for v in value]
    return value


def redact_bytes(data: bytes, secrets: Iterable[str] = ()) -> bytes:
    """`redact` for a file's bytes when they are UTF-8 text; other bytes (images, PDFs) are returned as they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return redact(text, secrets).encode("utf-8")
