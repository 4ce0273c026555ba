"""The browser's only way out: an HTTP proxy on loopback that lets through the AWS console and nothing else.

Chromium is started with `--proxy-server` pointing here and `--proxy-bypass-list=<-loopback>`, so
every request it makes, loopback and literal IP addresses included, arrives here first. A request (or a
CONNECT tunnel, for https) goes on only when its host and port are allowed: the console's and the
sign-in URL's own, and, for the real console, AWS's console and static-content domains. Everything
else (Redis on 127.0.0.1:6379, the metadata service on 169.254.169.254, any other site) gets a 403.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

AWS_CONSOLE_DOMAINS = ("aws.amazon.com", "awsstatic.com", "console.aws.a2z.com", "amazonaws-china.com")
RELAY_IDLE_SECONDS = 120
_DROPPED_HEADERS = ("proxy-connection", "proxy-authorization", "connection", "keep-alive")


def refused(host: str, port: int) -> str:
    return f"auditbot's browser may only reach the AWS console; {host}:{port} is not allowed"


class Allowlist:
    """Hosts and ports the browser may reach; exact (host, port) pairs plus AWS's console domains."""

    def __init__(self) -> None:
        self._exact: set[tuple[str, int]] = set()
        self._aws = False
        self._lock = threading.Lock()

    def allow_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return
        host = parts.hostname.lower()
        with self._lock:
            self._exact.add((host, parts.port or (443 if parts.scheme == "https" else 80)))
            self._aws = self._aws or any(host == d or host.endswith("." + d) for d in AWS_CONSOLE_DOMAINS)

    def allows(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        with self._lock:
            if (host, port) in self._exact:
                return True
            return self._aws and port == 443 and any(host == d or host.endswith("." + d) for d in AWS_CONSOLE_DOMAINS)


def _relay(one: socket.socket, other: socket.socket) -> None:
    """Copy bytes both ways until either side closes or both are idle too long."""
    sockets = [one, other]
    while True:
        readable, _, _ = select.select(sockets, [], [], RELAY_IDLE_SECONDS)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (other if source is one else one).sendall(data)


class _Handler(BaseHTTPRequestHandler):
    server: EgressProxy

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("browser egress: " + format, *args)

    def do_CONNECT(self) -> None:  # noqa: N802 - http.server's naming
        host, _, port = self.path.rpartition(":")
        if not self._allowed(host.strip("[]"), int(port) if port.isdigit() else 443):
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
        except OSError as exc:
            self.send_error(502, f"cannot reach {host}: {exc}")
            return
        with upstream:
            self.send_response(200, "Connection established")
            self.end_headers()
            _relay(self.connection, upstream)
        self.close_connection = True

    def _forward(self) -> None:
        target = urlsplit(self.path)
        host = target.hostname or ""
        port = target.port or 80
        if target.scheme != "http" or not self._allowed(host, port):
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        headers = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items() if k.lower() not in _DROPPED_HEADERS)
        request = f"{self.command} {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n".encode("latin-1") + body
        try:
            upstream = socket.create_connection((host, port), timeout=30)
        except OSError as exc:
            self.send_error(502, f"cannot reach {host}: {exc}")
            return
        with upstream:
            upstream.sendall(request)
            while data := upstream.recv(65536):
                self.wfile.write(data)
        self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _forward

    def _allowed(self, host: str, port: int) -> bool:
        if self.server.allowlist.allows(host, port):
            return True
        self.server.refusals.append(f"{host}:{port}")
        self.send_error(403, refused(host, port))
        return False


class EgressProxy(ThreadingHTTPServer):
    """The proxy, serving on 127.0.0.1 from a daemon thread until `close`."""

    daemon_threads = True

    def __init__(self, allowlist: Allowlist) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.allowlist = allowlist
        self.refusals: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
