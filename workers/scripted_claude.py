"""A loopback stand-in for Anthropic's Messages API that replays scripted turns.

Tests point the real `anthropic` SDK at it (mock at the wire, never inside our code), and
`auditbot demo` uses it to run the product offline. It answers as the API does: message JSON,
Server-Sent Events when `"stream": true`, Anthropic's error shape with `retry-after`, and
`usage` with simulated prompt caching, so retries, streaming and budgets run their real code.

A *turn* is one of:
- a message dict (at least `content`; `id`, `model`, `stop_reason`, `usage` are filled in),
  usually built with `text`, `tool_use` or `tool_uses`;
- a string: shorthand for `text(string)`;
- an `ErrorTurn` (see `error`), or a dict in Anthropic's error shape plus an optional `status`;
- a callable `f(request_body) -> turn`, to react to the tool results it received.

Token counts are estimates: a request's prompt is `len(body bytes) // 4` tokens, split into
`cache_read_input_tokens` (the prefix up to the last `cache_control` breakpoint, when the same
model saw the same prefix before), `cache_creation_input_tokens` (that prefix, the first time)
and `input_tokens` (the rest), so the three add up to the estimate as they do in the real API.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from workers.loopback_server import LoopbackServer

log = logging.getLogger(__name__)

Turn: TypeAlias = "dict[str, Any] | str | ErrorTurn | Callable[[dict[str, Any]], Turn]"

NO_TURN_LEFT = "scripted Claude has no turn left"
REDACTED = "[redacted]"
_SECRET_HEADERS = ("x-api-key", "authorization")
_STATUS_BY_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
_CHUNK = 16


@dataclass(frozen=True)
class ErrorTurn:
    """An HTTP error answered instead of a message.

    `retry_after` (seconds) becomes the `retry-after` header; `should_retry` the SDK-honoured
    `x-should-retry` header (unset: the SDK decides from the status).
    """

    status: int
    type: str
    message: str
    retry_after: float | None = None
    should_retry: bool | None = None

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.type, "message": self.message}}


def text(answer: str) -> dict[str, Any]:
    """A final answer: one text block, `end_turn`."""
    return {"role": "assistant", "content": [{"type": "text", "text": answer}], "stop_reason": "end_turn"}


def tool_use(name: str, input: dict[str, Any], id: str | None = None, text: str | None = None) -> dict[str, Any]:
    """An assistant message asking for one tool call, optionally preceded by a text block."""
    return tool_uses([(name, input)], text=text, ids=[id])


def tool_uses(
    calls: Iterable[tuple[str, dict[str, Any]]], text: str | None = None, ids: Iterable[str | None] = ()
) -> dict[str, Any]:
    """An assistant message asking for several tool calls at once (parallel tool use).

    `ids` fixes the tool_use ids in order; the ones not given are generated.
    """
    calls = list(calls)
    given = list(ids) + [None] * len(calls)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [
        {"type": "tool_use", "id": tool_id or _new_id("toolu_"), "name": name, "input": args}
        for (name, args), tool_id in zip(calls, given, strict=False)
    ]
    return {"role": "assistant", "content": content, "stop_reason": "tool_use"}


def error(status: int, type: str, message: str, retry_after: float | None = None) -> ErrorTurn:
    """An API error, e.g. `error(529, "overloaded_error", "Overloaded")` or a 429 with `retry_after`."""
    return ErrorTurn(status, type, message, retry_after)


def load_script(path: str | Path) -> list[Turn]:
    """Read a JSON list of turns (message dicts, strings, error dicts) for `auditbot demo`."""
    turns = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(turns, list):
        raise ValueError(f"{path}: a script is a JSON list of turns")
    return [_as_turn(turn) for turn in turns]


def _as_turn(turn: Turn) -> Turn:
    if isinstance(turn, str):
        return text(turn)
    if isinstance(turn, dict) and turn.get("type") == "error":
        kind = turn["error"]["type"]
        status = turn.get("status") or _STATUS_BY_ERROR_TYPE.get(kind, 500)
        return ErrorTurn(status, kind, turn["error"]["message"], turn.get("retry_after"))
    return turn


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes | Iterator[bytes]


class ScriptedClaude(LoopbackServer):
    """The stand-in server. `start()` returns the base URL to use as `ANTHROPIC_BASE_URL`.

    `requests` records every request received (path, lower-cased headers with the API key
    redacted, parsed JSON body, answered status) before it is answered.
    """

    def __init__(self, turns: Iterable[Turn] = (), host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.host, self.port = host, port
        self._turns: deque[Turn] = deque(turns)
        self._prefixes_seen: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> ScriptedClaude:
        """A stand-in loaded with the turns of a JSON script (see `load_script`)."""
        return cls(load_script(path), **kwargs)

    @property
    def turns_left(self) -> int:
        return len(self._turns)

    def enqueue(self, *turns: Turn) -> None:
        with self._lock:
            self._turns.extend(turns)

    def handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        return lambda *args: _Handler(self, *args)

    def _answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> _Reply:
        """Decide the reply to one request and record it; the HTTP handler only writes it out."""
        path = urlsplit(path).path
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        reply = self._reply(method, path, body, raw)
        record = {"path": path, "headers": _redacted(headers), "body": body, "status": reply.status}
        with self._lock:
            self.requests.append(record)
        return reply

    def _reply(self, method: str, path: str, body: Any, raw: bytes) -> _Reply:
        if method != "POST" or path not in ("/v1/messages", "/v1/messages/count_tokens"):
            return _error_reply(ErrorTurn(404, "not_found_error", f"{method} {path} is not scripted"))
        if not isinstance(body, dict):
            return _error_reply(ErrorTurn(400, "invalid_request_error", "the body is not a JSON object"))
        if path.endswith("/count_tokens"):
            return _json_reply(200, {"input_tokens": len(raw) // 4})
        problem = _invalid(body)
        if problem:
            return _error_reply(ErrorTurn(400, "invalid_request_error", problem))
        turn = self._next_turn(body)
        if isinstance(turn, ErrorTurn):
            return _error_reply(turn)
        message = self._message(turn, body, raw)
        if body.get("stream"):
            return _Reply(200, {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache",
                                "request-id": _new_id("req_")}, _sse(message))
        return _json_reply(200, message)

    def _next_turn(self, body: dict[str, Any]) -> Turn:
        with self._lock:
            turn: Turn | None = self._turns.popleft() if self._turns else None
        if turn is None:
            # The script is deterministic: a retry would only find the same empty queue.
            return ErrorTurn(500, "api_error", NO_TURN_LEFT, should_retry=False)
        while callable(turn):
            turn = turn(body)
        return _as_turn(turn)

    def _message(self, turn: dict[str, Any], body: dict[str, Any], raw: bytes) -> dict[str, Any]:
        content = [_with_id(block) for block in turn.get("content", [])]
        uses_tool = any(block.get("type") == "tool_use" for block in content)
        defaults = {
            "id": _new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "stop_reason": "tool_use" if uses_tool else "end_turn",
            "stop_sequence": None,
            "usage": self._usage(body, raw, content),
        }
        return {**defaults, **turn, "content": content}

    def _usage(self, body: dict[str, Any], raw: bytes, content: list[dict[str, Any]]) -> dict[str, int]:
        prompt = len(raw) // 4
        read = created = 0
        prefix = _cached_prefix(body)
        if prefix is not None:
            key = hashlib.sha256(f"{body.get('model')}\n{prefix}".encode()).hexdigest()
            with self._lock:
                seen = key in self._prefixes_seen
                self._prefixes_seen.add(key)
            tokens = min(len(prefix.encode()) // 4, prompt)
            read, created = (tokens, 0) if seen else (0, tokens)
        return {
            "input_tokens": prompt - read - created,
            "output_tokens": max(len(json.dumps(content).encode()) // 4, 1),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, claude: ScriptedClaude, *args: Any) -> None:
        self.claude = claude
        super().__init__(*args)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.claude._answer(self.command, self.path, headers, raw)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes):
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        for chunk in reply.body:
            self.wfile.write(chunk)
            self.wfile.flush()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("scripted claude: " + format, *args)


def _json_reply(status: int, payload: dict[str, Any], **headers: str) -> _Reply:
    base = {"content-type": "application/json", "request-id": _new_id("req_")}
    return _Reply(status, {**base, **headers}, json.dumps(payload).encode())


def _error_reply(turn: ErrorTurn) -> _Reply:
    headers = {} if turn.should_retry is None else {"x-should-retry": str(turn.should_retry).lower()}
    if turn.retry_after is not None:
        headers["retry-after"] = f"{turn.retry_after:g}"
    return _json_reply(turn.status, turn.body(), **headers)


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    return {name: REDACTED if name in _SECRET_HEADERS else value for name, value in headers.items()}


def _with_id(block: dict[str, Any]) -> dict[str, Any]:
    if block.get("type") == "tool_use" and not block.get("id"):
        return {**block, "id": _new_id("toolu_")}
    return block


def _blocks(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    content = (message or {}).get("content")
    return content if isinstance(content, list) else []


def _invalid(body: dict[str, Any]) -> str | None:
    """The request errors the real API would refuse and an agent loop can easily cause."""
    missing = [field for field in ("model", "max_tokens", "messages") if field not in body]
    if missing:
        return f"{missing[0]}: Field required"
    messages = body["messages"]
    for index, message in enumerate(messages):
        previous = messages[index - 1] if index else None
        asked = {b.get("id") for b in _blocks(previous) if b.get("type") == "tool_use"}
        answered = {b.get("tool_use_id") for b in _blocks(message) if b.get("type") == "tool_result"}
        if asked - answered:
            return (f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(sorted(asked - answered))}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message.")
        if answered - asked:
            return (f"messages.{index}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{', '.join(sorted(answered - asked))}. Each `tool_result` block must have a "
                    "corresponding `tool_use` block in the previous message.")
    return None


def _cached_prefix(body: dict[str, Any]) -> str | None:
    """The prompt up to the last `cache_control` breakpoint (tools, system, messages), as a cache key."""
    system = body.get("system") or []
    blocks: list[Any] = list(body.get("tools") or [])
    blocks += [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
    for message in body.get("messages") or []:
        content = message.get("content")
        parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        blocks += [{"role": message.get("role"), **part} for part in parts]
    marks = [i for i, block in enumerate(blocks) if isinstance(block, dict) and "cache_control" in block]
    if not marks:
        return None
    prefix = [{k: v for k, v in block.items() if k != "cache_control"} for block in blocks[: marks[-1] + 1]]
    return json.dumps(prefix, sort_keys=True, separators=(",", ":"))


def _chunks(value: str) -> list[str]:
    return [value[i : i + _CHUNK] for i in range(0, len(value), _CHUNK)]


def _block_stream(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A content block as the API streams it: an empty opening block, then its deltas."""
    kind = block.get("type")
    if kind == "text":
        return {**block, "text": ""}, [{"type": "text_delta", "text": part} for part in _chunks(block["text"])]
    if kind == "tool_use":
        partial = _chunks(json.dumps(block.get("input") or {}))
        return {**block, "input": {}}, [{"type": "input_json_delta", "partial_json": part} for part in partial]
    if kind == "thinking":
        deltas = [{"type": "thinking_delta", "thinking": part} for part in _chunks(block.get("thinking", ""))]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
        return {**block, "thinking": "", "signature": ""}, deltas
    return block, []


def _events(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    usage = message["usage"]
    opening = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": {**usage, "output_tokens": 1}}
    yield {"type": "message_start", "message": opening}
    yield {"type": "ping"}
    for index, block in enumerate(message["content"]):
        start, deltas = _block_stream(block)
        yield {"type": "content_block_start", "index": index, "content_block": start}
        for delta in deltas:
            yield {"type": "content_block_delta", "index": index, "delta": delta}
        yield {"type": "content_block_stop", "index": index}
    stop = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    yield {"type": "message_delta", "delta": stop, "usage": usage}
    yield {"type": "message_stop"}


def _sse(message: dict[str, Any]) -> Iterator[bytes]:
    for event in _events(message):
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()
