"""The tool's browser, run by the worker: chromedriver and Chromium outside the tool's sandbox, on a short leash.

The tool's process has no network, so it cannot talk to a browser of its own. Instead `ctx.browser()`
gives it a real selenium WebDriver whose commands travel over the broker socket (sandbox_webdriver)
and arrive here, where they are checked and passed to a chromedriver this bridge started:

- the session is created here, with fixed capabilities: the tool cannot choose the binary, flags or
  profile (a chromedriver session request can name any program to run);
- only W3C WebDriver commands on that one session pass; vendor commands (Chrome DevTools, `/goog/`,
  `/se/`), cookies (the console session's credentials) and logs do not;
- navigation is to http(s), data: and about: URLs only;
- Chromium's every request goes through `EgressProxy`, which lets through the console and sign-in
  hosts only, so the browser cannot reach Redis, 169.254.169.254 or any other host either;
- chromedriver and Chromium run as the run's sandbox user, inside bubblewrap where there is one (own mount,
  pid and ipc namespaces, only /usr, fonts and a tmpfs visible), so a file:// page shows nothing.

One bridge per run; `close` quits the browser and stops the proxy.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workers.sandbox_egress import Allowlist, EgressProxy
from workers.sandbox_launch import BWRAP, CHILD_PATH, SandboxOptions, probe, system_binds

logger = logging.getLogger(__name__)

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
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--window-size=1440,1000",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)
# Commands by their first path segment after /session/{id}; everything else is refused.
ALLOWED_COMMANDS = frozenset({
    "url", "back", "forward", "refresh", "title", "window", "frame", "element", "elements", "source",
    "execute", "screenshot", "actions", "alert", "print", "timeouts",
})
NAVIGABLE_SCHEMES = ("http", "https", "data", "about")
START_SECONDS = 30
COMMAND_SECONDS = 300
BROWSER_TMPFS_BYTES = 512 * 1024 * 1024
BROWSER_FILES = ("/etc/fonts", "/etc/hosts", "/etc/chromium.d", "/etc/chromium", "/etc/ssl", "/etc/ca-certificates")


def command_refused(method: str, path: str) -> str:
    return f"auditbot's browser does not allow the WebDriver command {method} {path}"


def navigation_refused(url: str) -> str:
    return f"auditbot's browser may only open http(s) pages of the AWS console, not {url[:200]!r}"


def browser_failed(detail: str) -> str:
    return f"the browser could not be started: {detail}"


def _error(status: int, error: str, message: str) -> dict[str, Any]:
    return {"status": status, "data": json.dumps({"value": {"error": error, "message": message}})}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrowserBridge:
    """Answers `webdriver` messages of one tool run; starts the browser on the first."""

    def __init__(self, console_url: str, options: SandboxOptions, identity: int | None) -> None:
        self._options = options
        self._identity = identity
        self._allowlist = Allowlist()
        self._allowlist.allow_url(console_url)
        self._proxy: EgressProxy | None = None
        self._refused: list[str] = []
        self._driver: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._session = ""
        self._profile: tempfile.TemporaryDirectory[str] | None = None
        self._profile_dir = "/tmp/profile"  # inside bubblewrap's tmpfs; a private folder without bubblewrap

    def allow_url(self, url: str) -> None:
        """Let the browser reach the host of a URL the worker minted (the console sign-in link)."""
        self._allowlist.allow_url(url)

    @property
    def refusals(self) -> list[str]:
        """Hosts the browser was refused, for tests and logs."""
        return [*self._refused, *(self._proxy.refusals if self._proxy else [])]

    def handle(self, message: dict[str, Any]) -> dict[str, Any]:
        """The reply to one WebDriver request: `{"ok": True, "status": HTTP status, "data": body text}`."""
        return {"ok": True, **self._answer(message)}

    def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        method, path = str(message.get("method", "")), str(message.get("path", ""))
        body = message.get("body") if isinstance(message.get("body"), str) else None
        try:
            if (method, path) == ("POST", "/session"):
                return self._new_session()
            parts = path.strip("/").split("/")
            if len(parts) < 2 or parts[0] != "session" or not self._session or parts[1] != self._session:
                return _error(404, "invalid session id", command_refused(method, path))
            if len(parts) == 2 and method == "DELETE":
                self.close()
                return {"status": 200, "data": '{"value": null}'}
            if len(parts) < 3 or parts[2] not in ALLOWED_COMMANDS:
                return _error(400, "unsupported operation", command_refused(method, path))
            if parts[2:] == ["url"] and method == "POST":
                url = str(json.loads(body or "{}").get("url", ""))
                if urlsplit(url).scheme.lower() not in NAVIGABLE_SCHEMES:
                    return _error(400, "invalid argument", navigation_refused(url))
            return self._forward(method, path, body)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            return _error(500, "unknown error", browser_failed(str(exc)))

    def _forward(self, method: str, path: str, body: str | None) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=COMMAND_SECONDS)
        try:
            headers = {"Content-Type": "application/json;charset=UTF-8"}
            connection.request(method, path, body=body.encode() if body else None, headers=headers)
            response = connection.getresponse()
            return {"status": response.status, "data": response.read().decode("utf-8", "replace")}
        finally:
            connection.close()

    def _new_session(self) -> dict[str, Any]:
        if self._session:
            return _error(500, "session not created", "this run already has a browser")
        self._proxy = EgressProxy(self._allowlist)
        self._start_driver()
        flags = [*CHROMIUM_FLAGS, f"--user-data-dir={self._profile_dir}", f"--proxy-server={self._proxy.url}"]
        capabilities = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": {"binary": CHROMIUM, "args": flags}}}}
        reply = self._forward("POST", "/session", json.dumps(capabilities))
        if reply["status"] == 200:
            self._session = json.loads(reply["data"])["value"]["sessionId"]
        return reply

    @property
    def _bwrap(self) -> bool:
        return self._options.enabled and probe(self._options).bwrap

    def _start_driver(self) -> None:
        self._port = _free_port()
        driver = [CHROMEDRIVER, f"--port={self._port}", "--allowed-ips=127.0.0.1"]
        env = {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "HOME": "/tmp"}
        if self._bwrap:
            argv = [BWRAP, "--unshare-all", "--share-net", "--cap-drop", "ALL", "--new-session", "--die-with-parent",
                    *system_binds()]
            for path in BROWSER_FILES:
                argv += ["--ro-bind-try", path, path]
            argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(BROWSER_TMPFS_BYTES), "--tmpfs", "/tmp",
                     "--remount-ro", "/", "--chdir", "/tmp", *driver]
        else:
            self._profile = tempfile.TemporaryDirectory(prefix="auditbot-browser-", ignore_cleanup_errors=True)
            os.chmod(self._profile.name, 0o711)
            self._profile_dir = str(Path(self._profile.name) / "profile")
            os.mkdir(self._profile_dir, 0o700)
            if self._identity is not None:
                os.chown(self._profile_dir, self._identity, self._identity)
            env["HOME"] = self._profile_dir
            argv = driver
        self._driver = subprocess.Popen(
            argv, env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, user=self._identity, group=self._identity,
            extra_groups=[] if self._identity is not None else None)
        self._wait_for_driver()

    def _wait_for_driver(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self._driver is not None and self._driver.poll() is not None:
                raise OSError(f"chromedriver exited with status {self._driver.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self._port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise OSError(f"chromedriver did not start within {START_SECONDS} s")

    def close(self) -> None:
        """Quit the browser, stop chromedriver and the proxy; safe to call more than once."""
        if self._session:
            try:
                self._forward("DELETE", f"/session/{self._session}", None)
            except (OSError, http.client.HTTPException):
                logger.info("the browser did not quit cleanly; it is killed")
            self._session = ""
        if self._driver is not None:
            try:
                os.killpg(self._driver.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._driver.wait()
            self._driver = None
        if self._proxy is not None:
            self._proxy.close()
            self._refused += self._proxy.refusals
            self._proxy = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None
