"""The small HTTP server under the Teams stand-ins: one thread, loopback, answers from `answer()`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from workers.loopback_server import LoopbackServer

log = logging.getLogger(__name__)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class JsonStandin(LoopbackServer):
    """Subclasses implement `answer(method, path, headers, raw body)`; `url` is the base URL."""

    name = "standin"

    @property
    def url(self) -> str:
        return self.root_url

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        raise NotImplementedError

    def handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = owner.answer(self.command, self.path, headers, raw)
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in {**reply.headers, "Content-Type": "application/json",
                                    "Content-Length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                log.debug(f"{owner.name}: " + format, *args)

        return Handler
