"""The tool's side of the browser: a selenium WebDriver whose commands go over the broker socket.

Selenium's `RemoteConnection` normally sends each WebDriver command as an HTTP request; this one sends
it as a `webdriver` message to the worker's `BrowserBridge` (sandbox_browser) and turns the reply
into what selenium expects. Tool code gets an ordinary `selenium.webdriver.Remote`, so everything it
does with a driver (get, execute_script, save_screenshot, WebDriverWait ...) works unchanged.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from selenium.webdriver import ChromeOptions, Remote
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection

from workers.aws_proxy import BrokerLink

BRIDGE_ADDRESS = "http://auditbot-browser"


class BridgeConnection(RemoteConnection):
    """A `RemoteConnection` that talks to the worker's browser bridge instead of an HTTP server."""

    def __init__(self, link: BrokerLink) -> None:
        super().__init__(client_config=ClientConfig(remote_server_addr=BRIDGE_ADDRESS, keep_alive=False))
        self._link = link

    def _request(self, method: str, url: str, body: str | None = None) -> dict[str, Any]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        reply = self._link.request({"type": "webdriver", "method": method, "path": path, "body": body})
        status, data = int(reply["status"]), str(reply["data"])
        if status >= 400:
            return {"status": status, "value": data.strip()}
        value = json.loads(data) if data.strip() else {}
        value.setdefault("value", None)
        return value


def remote_driver(link: BrokerLink) -> Remote:
    """A WebDriver on the worker's browser; the capabilities sent are ignored there."""
    return Remote(command_executor=BridgeConnection(link), options=ChromeOptions())
