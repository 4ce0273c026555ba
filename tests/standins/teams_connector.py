"""A loopback stand-in for the Bot Connector REST API that records every POST and PUT.

It serves `POST /v3/conversations/{id}/activities` (send, or reply when the body has `replyToId`),
`POST /v3/conversations/{id}/activities/{activity id}` (reply) and `PUT .../activities/{activity id}`
(update in place). A call without a bearer token the identity stand-in issued gets 401, as the real
Connector answers. `fail_next` makes the next calls answer 429 with `Retry-After` or a 5xx, and
`current` holds what each activity looks like now, after updates, i.e. what everyone sees.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.standins.teams_http import JsonStandin, Reply

PATH = re.compile(r"^/v3/conversations/(?P<conversation>.+?)/activities(?:/(?P<activity>[^/]+))?$")


@dataclass(frozen=True)
class Activity:
    """One recorded call: `id` is the activity created or updated."""

    method: str
    conversation: str
    id: str
    body: dict[str, Any]
    authorization: str | None

    @property
    def text(self) -> str:
        return self.body.get("text") or ""

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.body.get("attachments") or []
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]

    @property
    def reply_to(self) -> str | None:
        return self.body.get("replyToId")


class BotConnectorStandin(JsonStandin):
    name = "bot-connector-standin"

    def __init__(self, accepts: Callable[[str | None], bool]) -> None:
        super().__init__()
        self.accepts = accepts
        self.calls: list[Activity] = []
        self.refused: list[tuple[str, str, int]] = []
        self.current: dict[str, dict[str, Any]] = {}
        self._failures: list[tuple[int, float | None]] = []
        self._ids = itertools.count(1)
        self._changed = threading.Condition()

    @property
    def service_url(self) -> str:
        return f"{self.url}/"

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        with self._changed:
            self._failures.extend([(status, retry_after)] * times)

    def recover(self) -> None:
        """Forget the failures still queued: the Connector is back."""
        with self._changed:
            self._failures.clear()

    def posts(self, predicate: Callable[[Activity], bool] | None = None) -> list[Activity]:
        with self._changed:
            return [c for c in self.calls if c.method == "POST" and c.body.get("type") == "message"
                    and (predicate is None or predicate(c))]

    def puts(self) -> list[Activity]:
        with self._changed:
            return [c for c in self.calls if c.method == "PUT"]

    def wait_for(self, predicate: Callable[[Activity], bool], count: int = 1, timeout: float = 10) -> list[Activity]:
        with self._changed:
            if not self._changed.wait_for(lambda: len([c for c in self.calls if predicate(c)]) >= count, timeout):
                seen = [(c.method, c.text[:60]) for c in self.calls]
                raise AssertionError(f"expected {count} matching Connector call(s) within {timeout}s; saw {seen}")
            return [c for c in self.calls if predicate(c)]

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        match = PATH.match(unquote(urlsplit(path).path))
        if match is None or method not in ("POST", "PUT"):
            return Reply(404, {"error": {"code": "NotFound", "message": path}})
        scheme, _, bearer = headers.get("authorization", "").partition(" ")
        with self._changed:
            if self._failures:
                status, retry_after = self._failures.pop(0)
                self.refused.append((method, path, status))
                extra = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                return Reply(status, {"error": {"code": "ServiceError", "message": "stand-in failure"}}, extra)
            if scheme != "Bearer" or not self.accepts(bearer):
                self.refused.append((method, path, 401))
                return Reply(401, {"message": "Authorization has been denied for this request."})
            body = json.loads(raw or b"{}")
            conversation, target = match["conversation"], match["activity"]
            activity_id = target if method == "PUT" else f"act-{next(self._ids)}"
            if method == "POST" and target:
                body = {**body, "replyToId": target}
            self.calls.append(Activity(method, conversation, activity_id, body, headers.get("authorization")))
            if body.get("type") == "message":
                self.current[activity_id] = body
            self._changed.notify_all()
        return Reply(body={"id": activity_id})
