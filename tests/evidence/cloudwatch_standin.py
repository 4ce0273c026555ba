"""A loopback stand-in for CloudWatch's GetMetricWidgetImage, in front of moto, which lacks it.

Every other request is passed to moto unchanged, so the broker sees one AWS endpoint. The widget
call is answered as CloudWatch answers the protocol botocore speaks to it (AWS JSON 1.0): the PNG chart,
drawn at the widget's size, base64-encoded in `MetricWidgetImage`. `widgets` keeps every widget definition asked for.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import httpx
from PIL import Image, ImageDraw

WIDGET_TARGET = "GraniteServiceVersion20100801.GetMetricWidgetImage"
_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "content-encoding"})


def chart(width: int, height: int) -> bytes:
    """A plain line chart on white: what a metric graph looks like, enough to carry a banner."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(40, height - 30), (width - 10, height - 30)], fill="black", width=1)
    draw.line([(40, 10), (40, height - 30)], fill="black", width=1)
    points = [(40 + x, height // 2 + int((x % 97) - 48)) for x in range(0, width - 50, 25)]
    draw.line(points, fill=(31, 119, 180), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class CloudWatchWidgetStandin:
    """Serves on 127.0.0.1; `endpoint_url` is what the broker is pointed at."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.widgets: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> CloudWatchWidgetStandin:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, standin=self))
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, *args: Any, standin: CloudWatchWidgetStandin, **kwargs: Any) -> None:
        self.standin = standin
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: the test output stays readable."""

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("X-Amz-Target") == WIDGET_TARGET:
            widget = json.loads(json.loads(body)["MetricWidget"])
            self.standin.widgets.append(widget)
            png = chart(int(widget.get("width", 600)), int(widget.get("height", 300)))
            reply = json.dumps({"MetricWidgetImage": base64.b64encode(png).decode("ascii")}).encode()
            self._answer(200, {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": str(uuid.uuid4())},
                         reply)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        upstream = httpx.request(self.command, self.standin.upstream + self.path, headers=headers, content=body,
                                 timeout=30)
        self._answer(upstream.status_code, {k: v for k, v in upstream.headers.items()
                                            if k.lower() not in _HOP_HEADERS}, upstream.content)

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _relay  # noqa: N815 - http.server's names
