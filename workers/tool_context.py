"""The `ctx` a tool receives: AWS clients through the broker, progress lines, evidence files, a browser.

It lives in the tool's process. Everything that needs trust (AWS calls, console sign-in) is a
request to the broker; everything else (files, the browser) happens here, inside `output_dir`,
whose files the worker collects as evidence once the tool has finished.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.aws_proxy import BrokerLink, ClientProxy

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1440,1000",
)


class ToolContext:
    """The contract's `ctx`."""

    def __init__(self, link: BrokerLink, *, output_dir: Path, account_id: str, region: str,
                 console_url: str) -> None:
        self._link = link
        self._output_dir = output_dir
        self._clients: dict[tuple[str, str], ClientProxy] = {}
        self.account_id = account_id
        self.region = region
        self.console_url = console_url

    def client(self, service: str, region: str | None = None) -> ClientProxy:
        """A boto3-like client; a region other than `ctx.region` is allowed and recorded by the broker."""
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = ClientProxy(self._link, *key)
        return self._clients[key]

    def progress(self, text: str) -> None:
        """One progress line for the chat thread."""
        self._link.notify({"type": "progress", "text": str(text)})

    def output_path(self, name: str) -> Path:
        """Where to write evidence file `name`: a plain file name, so nothing lands outside the folder."""
        if (not isinstance(name, str) or not name or name.startswith(".")
                or any(c in name for c in ("/", "\\", "\0"))):
            raise ValueError(f"evidence file name {name!r} must be a plain file name "
                             "(no path separators, not starting with '.')")
        return self._output_dir / name

    def save_json(self, name: str, obj: Any) -> Path:
        path = self.output_path(name)
        path.write_text(json.dumps(obj, indent=2, default=str), encoding="utf-8")
        return path

    def save_text(self, name: str, text: str) -> Path:
        path = self.output_path(name)
        path.write_text(text, encoding="utf-8")
        return path

    def save_bytes(self, name: str, data: bytes) -> Path:
        path = self.output_path(name)
        path.write_bytes(data)
        return path

    @contextmanager
    def browser(self) -> Iterator[Chrome]:
        """A headless Chromium WebDriver with a fresh profile, quit on exit."""
        import tempfile

        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        with tempfile.TemporaryDirectory(prefix="auditbot-chromium-", ignore_cleanup_errors=True) as profile:
            options = webdriver.ChromeOptions()
            options.binary_location = CHROMIUM
            for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
                options.add_argument(flag)
            driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
            try:
                yield driver
            finally:
                driver.quit()

    def console_login_url(self, destination: str) -> str:
        """A signed-in console URL for `destination`; the trusted worker does the federation sign-in."""
        return self._link.request({"type": "console_login_url", "destination": destination})["url"]
