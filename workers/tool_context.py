"""The `ctx` a tool receives: AWS clients through the broker, progress lines, evidence files, a browser.

It lives in the tool's process. Everything that needs trust (AWS calls, console sign-in) is a
request to the broker; everything else (files, the browser) happens here, inside `output_dir`,
whose files the worker collects as evidence once the tool has finished.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers import evidence_screenshots, reports
from workers.aws_proxy import BrokerLink, ClientProxy

if TYPE_CHECKING:
    from selenium.webdriver import Chrome, Remote

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

    def save_table(self, name: str, rows: Iterable[Any], *, formats: Sequence[str] = ("csv",),
                   columns: Sequence[str] | None = None, title: str | None = None) -> dict[str, Any]:
        """Table `name` (a file stem) as JSON, CSV, XLSX and/or PDF, streamed to disk row by row
        (workers.reports); returns the file names, the columns and the row count."""
        self.output_path(name + ".csv")
        return reports.save_table(self._output_dir, name, rows, formats=formats, columns=columns, title=title)

    def save_image(self, name: str, png: bytes, *, source: str) -> Path:
        """A PNG (e.g. a CloudWatch chart) with the evidence banner burned in above it."""
        return evidence_screenshots.save_image(png, self.output_path(name), account=self.account_id,
                                               region=self.region, source=source)

    def capture(self, driver: Chrome, name: str, *, source: str) -> dict[str, str]:
        """A screenshot of the browser's page with the evidence banner, checked in the DOM and in the pixels."""
        return evidence_screenshots.capture(driver, self.output_path(name), account=self.account_id,
                                            region=self.region, source=source)

    @contextmanager
    def browser(self) -> Iterator[Remote]:
        """A headless Chromium WebDriver with a fresh profile, quit on exit.

        The browser runs in the worker, outside this process, and reaches only the console (sandbox_browser).
        """
        from workers.sandbox_webdriver import remote_driver

        driver = remote_driver(self._link)
        try:
            yield driver
        finally:
            driver.quit()

    def console_login_url(self, destination: str) -> str:
        """A signed-in console URL for `destination`; the trusted worker does the federation sign-in."""
        return self._link.request({"type": "console_login_url", "destination": destination})["url"]
