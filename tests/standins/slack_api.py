"""A loopback stand-in for the Slack Web API that records every call it receives.

Tests point the real `slack_sdk` / `slack_bolt` clients at it (`SLACK_API_URL`,
`WebClient(base_url=...)`) and assert on what reached the wire, as bolt-python's
`tests/mock_web_api_server/` does. It keeps just enough state for the calls to be coherent:
posted messages (updated, deleted, read back by `conversations.replies`) and uploaded files.

Values Slack carries as JSON strings inside form bodies (`blocks`, `attachments`, `view`,
`files`, `metadata`) are decoded in `Call.args`, so tests compare structures, not strings.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from workers.loopback_server import LoopbackServer

log = logging.getLogger(__name__)

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T1"
_JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")

Response = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One Web API request: its method, parsed arguments, lower-cased headers and what was answered."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    token: str | None = None
    status: int = 200
    response: Response | None = None


@dataclass
class _Failure:
    status: int
    retry_after: int
    error: str
    times: int


class SlackAPIStandin(LoopbackServer):
    """The stand-in server. `start()` returns the base URL, ending in `/api/`.

    With `bot_token` set, a call carrying another token is refused with `invalid_auth`;
    a call carrying none is refused with `not_authed` either way.
    """

    def __init__(self, bot_token: str | None = None) -> None:
        self.bot_token = bot_token
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._shared_files: list[dict[str, Any]] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._counter = itertools.count(1)
        self._changed = threading.Condition()
        self._methods: dict[str, Callable[[dict[str, Any]], Response]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": lambda args: {"ok": True, "message_ts": self._next_ts()},
            "chat.delete": self._delete,
            "reactions.add": lambda args: {"ok": True},
            "views.publish": self._view,
            "views.open": self._view,
            "conversations.replies": self._replies,
            "users.info": self._user_info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/api/"

    def handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        return lambda *args: _Handler(self, *args)

    def fail_next(
        self, method: str, status: int | None = None, retry_after: int = 1, error: str | None = None, times: int = 1
    ) -> None:
        """Make the next `times` calls to `method` fail.

        Without `error`: HTTP 429 (or `status`) with `Retry-After`, as Slack rate-limits.
        With `error`: `{"ok": false, "error": error}` with HTTP 200 (or `status`).
        """
        code = status if status is not None else (200 if error else 429)
        reason = error or ("ratelimited" if code == 429 else "internal_error")
        with self._changed:
            self._failures.setdefault(method, []).append(_Failure(code, retry_after, reason, times))

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 10, predicate: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        """The calls to `method` (matching `predicate`) once there are `count`; fails after `timeout` s."""

        def matching() -> list[Call]:
            return [c for c in self.calls if c.method == method and (predicate is None or predicate(c))]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout):
                seen = [call.method for call in self.calls]
                raise AssertionError(f"expected {count} call(s) to {method} within {timeout}s; saw {seen}")
            return matching()

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Files shared by `files.completeUploadExternal`, with the bytes sent to their upload URL."""
        with self._changed:
            return [{**shared, "content": self.uploads.get(shared["file_id"], b"")} for shared in self._shared_files]

    def call(self, method: str, headers: dict[str, str], args: dict[str, Any]) -> tuple[int, dict[str, str], Response]:
        """Answer one Web API call and record it; the HTTP handler only parses and writes."""
        token = _token(headers, args)
        with self._changed:
            status, extra, response = self._dispatch(method, token, args)
            self.calls.append(Call(method, args, headers, token, status, response))
            self._changed.notify_all()
        return status, extra, response

    def upload(self, file_id: str, data: bytes) -> bool:
        """Store the bytes sent to an upload URL; False when no such upload was started."""
        with self._changed:
            if file_id not in self._pending_files:
                return False
            self.uploads[file_id] = data
            return True

    def _dispatch(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict[str, str], Response]:
        failure = self._take_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.status == 429 else {}
            return failure.status, headers, {"ok": False, "error": failure.error}
        if token is None:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if self.bot_token is not None and token != self.bot_token:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        handler = self._methods.get(method)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        return 200, {}, handler(args)

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._counter):06d}"

    def _find(self, channel: str | None, ts: str | None) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel or "", []) if m["ts"] == ts), None)

    def _auth_test(self, args: dict[str, Any]) -> Response:
        return {"ok": True, "url": "https://t1.slack.com/", "team": "Team One", "user": "auditbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _post_message(self, args: dict[str, Any]) -> Response:
        channel = args.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "team": TEAM_ID,
                   "text": args.get("text", ""), "ts": self._next_ts()}
        message.update({k: args[k] for k in ("blocks", "attachments", "thread_ts", "metadata") if k in args})
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _update(self, args: dict[str, Any]) -> Response:
        message = self._find(args.get("channel"), args.get("ts"))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.update({k: args[k] for k in ("text", "blocks", "attachments", "metadata") if k in args})
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"ok": True, "channel": args["channel"], "ts": message["ts"], "text": message["text"],
                "message": message}

    def _delete(self, args: dict[str, Any]) -> Response:
        message = self._find(args.get("channel"), args.get("ts"))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages[args["channel"]].remove(message)
        return {"ok": True, "channel": args["channel"], "ts": message["ts"]}

    def _view(self, args: dict[str, Any]) -> Response:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": {**view, "id": "V" + uuid.uuid4().hex[:10].upper(), "team_id": TEAM_ID,
                                     "state": {"values": {}}, "hash": uuid.uuid4().hex}}

    def _replies(self, args: dict[str, Any]) -> Response:
        ts = args.get("ts")
        thread = [m for m in self.messages.get(args.get("channel") or "", []) if ts in (m["ts"], m.get("thread_ts"))]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return {"ok": True, "messages": sorted(thread, key=lambda m: float(m["ts"])), "has_more": False,
                "response_metadata": {"next_cursor": ""}}

    def _user_info(self, args: dict[str, Any]) -> Response:
        user = args.get("user")
        if not user:
            return {"ok": False, "error": "user_not_found"}
        name = str(user).lower()
        return {"ok": True, "user": {"id": user, "team_id": TEAM_ID, "name": name, "real_name": f"User {user}",
                                     "tz": "UTC", "is_bot": user == BOT_USER_ID,
                                     "profile": {"display_name": name, "real_name": f"User {user}"}}}

    def _upload_url(self, args: dict[str, Any]) -> Response:
        if not args.get("filename") or not args.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + uuid.uuid4().hex[:10].upper()
        self._pending_files[file_id] = {"filename": args["filename"], "length": int(args["length"])}
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> Response:
        entries = args.get("files")
        if not isinstance(entries, list) or any(entry.get("id") not in self.uploads for entry in entries):
            return {"ok": False, "error": "file_not_found"}
        files = []
        for entry in entries:
            file_id = entry["id"]
            filename = self._pending_files[file_id]["filename"]
            title = entry.get("title") or filename
            self._shared_files.append({"file_id": file_id, "filename": filename, "title": title,
                                       "channel_id": args.get("channel_id"), "thread_ts": args.get("thread_ts"),
                                       "initial_comment": args.get("initial_comment")})
            files.append({"id": file_id, "name": filename, "title": title, "size": len(self.uploads[file_id]),
                          "user": BOT_USER_ID, "url_private": f"{self.root_url}/files/{file_id}"})
        channel = args.get("channel_id")
        if channel:
            message = {"type": "message", "subtype": "file_share", "user": BOT_USER_ID, "bot_id": BOT_ID,
                       "text": args.get("initial_comment") or "", "files": files, "ts": self._next_ts()}
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "files": files}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, slack: SlackAPIStandin, *args: Any) -> None:
        self.slack = slack
        super().__init__(*args)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        url = urlsplit(self.path)
        content_type = self.headers.get("content-type", "")
        if url.path.startswith("/upload/"):
            stored = self.slack.upload(url.path.removeprefix("/upload/"), _file_bytes(content_type, raw))
            self._send(200 if stored else 404, {}, "text/plain", f"OK - {len(raw)}" if stored else "file_not_found")
            return
        if not url.path.startswith("/api/"):
            self._send(404, {}, "text/plain", "not found")
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        args = _args(url.query, content_type, raw)
        status, extra, response = self.slack.call(url.path.removeprefix("/api/"), headers, args)
        self._send(status, extra, "application/json; charset=utf-8", json.dumps(response))

    def _send(self, status: int, headers: dict[str, str], content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": content_type, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("slack api standin: " + format, *args)


def _token(headers: dict[str, str], args: dict[str, Any]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value
    return args.get("token")


def _form(text: str) -> dict[str, Any]:
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _args(query: str, content_type: str, raw: bytes) -> dict[str, Any]:
    """Arguments from the query string and a form or JSON body, with JSON-string fields decoded."""
    args = _form(query)
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json" and raw:
        args.update(json.loads(raw))
    elif media_type == "application/x-www-form-urlencoded":
        args.update(_form(raw.decode()))
    for key in _JSON_FIELDS:
        if isinstance(args.get(key), str):
            with suppress(ValueError):  # not JSON: keep the string as sent
                args[key] = json.loads(args[key])
    return args


def _file_bytes(content_type: str, raw: bytes) -> bytes:
    """The file sent to an upload URL: the raw body, or the file part of a multipart body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return raw
    form = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    parts = [part for part in form.iter_parts() if part.get_filename()] or list(form.iter_parts())
    return parts[0].get_payload(decode=True) if parts else b""
