"""An HTTP server on loopback, served from a daemon thread: the plumbing every local stand-in shares
(the scripted Claude, the console, the tests' Slack and Teams stand-ins)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """Subclasses give `handler()`; starting, stopping and `with` come from here."""

    host = "127.0.0.1"
    port = 0
    _server: ThreadingHTTPServer | None = None

    def handler(self) -> Callable[..., BaseHTTPRequestHandler]:
        raise NotImplementedError

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return self.root_url

    def start(self) -> str:
        """Serve on the configured port (0: a free one); return the base URL."""
        if self._server is None:
            self._server = ThreadingHTTPServer((self.host, self.port), self.handler())
            # A short poll interval lets stop() return at once instead of after half a second.
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                             name=type(self).__name__, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
