"""A loopback stand-in for the AWS federation endpoint and console, for tests and the offline demo.

It plays the two halves of console sign-in (getSigninToken, login) strictly enough that a
broken sign-in shows, and serves any console deep link as a page that names the service,
the resource and the tab, so a screenshot shows what it is of. Query strings here carry
credentials and tokens: the server logs nothing, and `requests` keeps them redacted.
"""

from __future__ import annotations

import functools
import html
import json
import posixpath
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from workers.loopback_server import LoopbackServer

COOKIE_NAME = "aws-standin-session"
_SECRET_PARAMS = frozenset({"Session", "SigninToken"})
_SESSION_KEYS = ("sessionId", "sessionKey", "sessionToken")
_SERVICE_TITLES = {
    "cloudwatch": "CloudWatch",
    "dynamodbv2": "DynamoDB",
    "ec2": "EC2",
    "iam": "IAM",
    "lambda": "Lambda",
    "rds": "RDS",
    "s3": "S3",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it, with `Session` and `SigninToken` values redacted."""

    method: str
    path: str
    query: dict[str, str]
    signed_in: bool


class ConsoleStandin(LoopbackServer):
    """Federation endpoint at `signin_url`, console pages under `console_url`, on 127.0.0.1."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._issued_tokens: set[str] = set()
        self._sessions: set[str] = set()
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.root_url + "/"

    @property
    def signin_url(self) -> str:
        return self.base_url + "federation"

    @property
    def console_url(self) -> str:
        return self.base_url + "console/"

    def handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        return functools.partial(_Handler, standin=self)

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._issued_tokens.add(token)
        return token

    def redeem_token(self, token: str) -> str | None:
        """A new console session for an issued token; each token signs in once."""
        with self._lock:
            if token not in self._issued_tokens:
                return None
            self._issued_tokens.discard(token)
            session = secrets.token_urlsafe(32)
            self._sessions.add(session)
        return session

    def has_session(self, session: str | None) -> bool:
        with self._lock:
            return session in self._sessions

    def is_console_destination(self, destination: str) -> bool:
        """True when `destination` is a page of this console (after resolving any "..")."""
        target, console = urlsplit(destination), urlsplit(self.console_url)
        path = posixpath.normpath(target.path) + ("/" if target.path.endswith("/") else "")
        return (target.scheme, target.netloc) == (console.scheme, console.netloc) and path.startswith(
            console.path
        )


class _Handler(BaseHTTPRequestHandler):
    """Routes: /federation (getSigninToken, login) and /console/... pages."""

    def __init__(self, *args: Any, standin: ConsoleStandin, **kwargs: Any) -> None:
        self.standin = standin
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines would carry the session credentials and sign-in tokens."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        session = self._session_cookie()
        signed_in = self.standin.has_session(session)
        self.standin.requests.append(
            RecordedRequest(
                "GET",
                url.path,
                {k: "<redacted>" if k in _SECRET_PARAMS else v for k, v in query.items()},
                signed_in,
            )
        )
        if url.path == "/federation" and query.get("Action") == "getSigninToken":
            self._get_signin_token(query)
        elif url.path == "/federation" and query.get("Action") == "login":
            self._login(query)
        elif url.path.startswith("/console/"):
            service = url.path.removeprefix("/console/").split("/", 1)[0]
            self._html(HTTPStatus.OK, _console_page(service) if signed_in else _signin_page(""))
        else:
            self._json(HTTPStatus.NOT_FOUND, {"message": "not found"})

    def _get_signin_token(self, query: dict[str, str]) -> None:
        try:
            session = json.loads(query.get("Session", ""))
        except ValueError:
            session = None
        if not isinstance(session, dict) or not all(
            isinstance(session.get(k), str) and session[k] for k in _SESSION_KEYS
        ):
            self._json(
                HTTPStatus.BAD_REQUEST, {"message": "Session must hold sessionId, sessionKey, sessionToken"}
            )
            return
        duration = query.get("SessionDuration")
        if duration is not None and not (duration.isdigit() and 900 <= int(duration) <= 43_200):
            self._json(HTTPStatus.BAD_REQUEST, {"message": "SessionDuration must be 900 to 43200"})
            return
        self._json(HTTPStatus.OK, {"SigninToken": self.standin.issue_token()})

    def _login(self, query: dict[str, str]) -> None:
        destination = query.get("Destination", "")
        if not self.standin.is_console_destination(destination):
            self._json(HTTPStatus.BAD_REQUEST, {"message": "Destination must be a console page"})
            return
        session = self.standin.redeem_token(query.get("SigninToken", ""))
        if session is None:
            self._html(HTTPStatus.FORBIDDEN, _signin_page("Your sign-in link is invalid or has expired."))
            return
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", destination)
        self.send_header("Set-Cookie", f"{COOKIE_NAME}={session}; Path=/; HttpOnly; SameSite=Lax")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _session_cookie(self) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        return cookie[COOKIE_NAME].value if COOKIE_NAME in cookie else None

    def _json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(body).encode())

    def _html(self, status: HTTPStatus, page: str) -> None:
        self._send(status, "text/html; charset=utf-8", page.encode())

    def _send(self, status: HTTPStatus, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


_STYLE = """
body { margin: 0; font-family: "Amazon Ember", Arial, sans-serif; background: #f2f3f3; color: #16191f; }
header { background: #232f3e; color: #fff; padding: 10px 20px;
         display: flex; gap: 24px; align-items: center; }
header .brand { font-weight: bold; color: #ff9900; }
header .standin { margin-left: auto; color: #aab7b8; font-size: 12px; }
main { padding: 20px; }
.card { background: #fff; border: 1px solid #d5dbdb; border-radius: 8px;
        padding: 16px 20px; margin-bottom: 16px; }
.label { color: #5f6b7a; font-size: 13px; }
.value { font-size: 20px; font-weight: bold; word-break: break-all; }
code { font-size: 13px; }
"""

# Reads the deep link the way the real console's pages do: resource ids sit in the hash
# (`#database:id=...`, `#InstanceDetails:instanceId=...`, `#table?name=...`, `#/functions/NAME`)
# or, for S3, in the path (`/s3/buckets/NAME`). textContent only: the URL is untrusted input.
_SCRIPT = """
function render() {
  let hash = location.hash.slice(1);
  try { hash = decodeURIComponent(hash); } catch (e) {}
  const keyed = hash.match(/(?:^|[:?&;])(?:id|instanceId|name)=([^&;]+)/);
  const parts = location.pathname.split("/").filter(Boolean);
  const bucket = parts.indexOf("buckets") >= 0 ? parts[parts.indexOf("buckets") + 1] : "";
  const resource = keyed ? keyed[1] : (hash ? hash.split("/").filter(Boolean).pop() : bucket) || "";
  const query = new URLSearchParams(location.search);
  const tab = query.get("tab") || (hash.match(/[?&]tab=([^&]+)/) || [])[1] || "";
  document.getElementById("console-resource").textContent = resource || "(service home)";
  document.getElementById("console-tab").textContent = tab || "(default)";
  document.getElementById("console-region").textContent = query.get("region") || "global";
  const where = location.pathname + location.search + location.hash;
  document.getElementById("console-location").textContent = where;
  if (!document.getElementById("console-ready")) {
    const ready = document.createElement("div");
    ready.id = "console-ready";
    document.body.appendChild(ready);
  }
}
window.addEventListener("hashchange", render);
render();
"""


def _console_page(service: str) -> str:
    title = html.escape(_SERVICE_TITLES.get(service, service.upper() or "Console Home"))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{title} | AWS Management Console</title>
<style>{_STYLE}</style></head>
<body>
<header><span class="brand">AWS Management Console</span><span id="console-service">{title}</span>
<span>Region: <span id="console-region"></span></span>
<span class="standin">auditbot loopback stand-in, not AWS</span></header>
<main>
<div class="card"><div class="label">Resource</div><div class="value" id="console-resource"></div></div>
<div class="card"><div class="label">Tab</div><div class="value" id="console-tab"></div></div>
<div class="card"><div class="label">Page</div><code id="console-location"></code></div>
</main>
<script>{_SCRIPT}</script>
</body></html>"""


def _signin_page(message: str) -> str:
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in | AWS Management Console</title>
<style>{_STYLE}</style></head>
<body>
<header><span class="brand">AWS Management Console</span>
<span class="standin">auditbot loopback stand-in, not AWS</span></header>
<main><div class="card" id="signin-page"><h1>Sign in</h1>
<p id="signin-message">{html.escape(message)}</p></div></main>
</body></html>"""
