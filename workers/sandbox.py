"""Run one tool function in a sandboxed process and serve its AWS calls through a broker.

The tool's process gets a socketpair end and nothing else worth having: no credentials, no network,
no view of the worker's files (sandbox_launch says how, sandbox_stage what it sees). This side answers
its requests (AWS calls with `Broker.handle`, browser commands with a `BrowserBridge`), passes its
progress lines on, stops it at the wall-clock limit (the whole process group and pid namespace), and
copies the files it left in its output folder to `output_dir` as evidence. Everything that comes back
(result, error, progress, text files) is scrubbed of the worker's secrets and of credential shapes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from workers import wire
from workers.broker import Broker, CallRecord
from workers.redaction import redact, redact_bytes, redact_value
from workers.sandbox_browser import BrowserBridge
from workers.sandbox_launch import Launch, SandboxOptions, SandboxUnavailable, plan, run_identity, sandbox_off_warning
from workers.sandbox_stage import CodeChanged, Stage
from workers.settings import load_settings

logger = logging.getLogger(__name__)

RESULT_CAP_BYTES = 1024 * 1024
PROGRESS_LINE_CHARS = 500
PROGRESS_LINES = 200
ERROR_CHARS = 4000
OUTPUT_TAIL_LINES = 20
OUTPUT_TAIL_BYTES = 8192
EXIT_GRACE_SECONDS = 1.0
CANCEL_POLL_SECONDS = 0.5


@dataclass
class ToolRun:
    """What one run of a tool produced; `error` is empty when `ok`."""

    ok: bool
    value: dict[str, Any]
    error: str
    error_type: str
    files: list[Path]
    calls: list[CallRecord]
    progress: list[str]
    started_at: datetime
    ended_at: datetime
    timed_out: bool = False


@dataclass
class _Outcome:
    ok: bool = False
    value: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    error_type: str = ""
    timed_out: bool = False


class _Progress:
    """Progress lines, each passed on as it arrives: at most `PROGRESS_LINES` of at most
    `PROGRESS_LINE_CHARS`, then one line saying the rest are not shown."""

    def __init__(self, on_progress: Callable[[str], None], secrets: tuple[str, ...]) -> None:
        self.lines: list[str] = []
        self._on_progress = on_progress
        self._secrets = secrets

    def add(self, text: object) -> None:
        if len(self.lines) > PROGRESS_LINES:
            return
        line = redact(str(text), self._secrets)[:PROGRESS_LINE_CHARS]
        if len(self.lines) == PROGRESS_LINES:
            line = "(further progress lines are not shown)"
        self.lines.append(line)
        self._on_progress(line)


def _ignore(_: str) -> None:
    """The default progress callback."""


def _serve(channel: wire.Channel, broker: Broker, bridge: BrowserBridge, deadline: float,
           progress: _Progress) -> dict[str, Any] | None:
    """Answer the child until it sends its outcome (returned) or closes its end (None)."""
    while True:
        message = channel.receive(timeout=max(deadline - time.monotonic(), 0.001))
        if message is None:
            return None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind in ("result", "error"):
            return message
        if kind == "progress":
            progress.add(message.get("text", ""))
            continue
        reply = bridge.handle(message) if kind == "webdriver" else broker.handle(message)
        if kind == "console_login_url" and reply and reply.get("ok"):
            bridge.allow_url(reply["url"])
        if reply is not None:
            try:
                line = wire.encode(reply)
            except wire.WireError as exc:
                line = wire.encode({"ok": False, "failure": "ResponseTooLarge", "message": str(exc)})
            channel.send_line(line)


def _trim(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else "...\n" + text[-ERROR_CHARS:]


class _OutputTail:
    """The last bytes the tool's process wrote to stdout/stderr, read as they come so nothing piles up."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._data = bytearray()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:
            while chunk := stream.read1(65536):
                self._data += chunk
                del self._data[:-OUTPUT_TAIL_BYTES]

    def text(self) -> str:
        self._thread.join(timeout=2)
        lines = bytes(self._data).decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-OUTPUT_TAIL_LINES:])


def _from_message(message: dict[str, Any], function: str) -> _Outcome:
    if message.get("type") == "error":
        return _Outcome(error=_trim(str(message.get("traceback") or message.get("message") or "")),
                        error_type=str(message.get("error_type") or "Error"))
    value = message.get("value")
    if function == "run" and not isinstance(value, dict):
        return _Outcome(error=f"run must return a dict, not {type(value).__name__}", error_type="TypeError")
    try:
        size = len(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return _Outcome(error="the result is not plain JSON", error_type="TypeError")
    if size > RESULT_CAP_BYTES:
        return _Outcome(error=f"the result is larger than {RESULT_CAP_BYTES} bytes; save large data "
                              "as an evidence file (ctx.save_json) and return a summary", error_type="ResultTooLarge")
    return _Outcome(ok=True, value=value if isinstance(value, dict) else {})


def _stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """Let the child exit by itself for `grace` seconds, then kill its whole process group (stray
    subprocesses; with bubblewrap, the pid namespace and so everything in it) and reap it."""
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


class _CancelWatch:
    """Polls `should_stop` while a tool runs and kills the tool's process group when it says so; the closed
    socket then ends `_serve` as a process that died would."""

    def __init__(self, process: subprocess.Popen[bytes], should_stop: Callable[[], bool]) -> None:
        self.fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(process, should_stop), daemon=True)
        self._thread.start()

    def _watch(self, process: subprocess.Popen[bytes], should_stop: Callable[[], bool]) -> None:
        while not self._done.wait(CANCEL_POLL_SECONDS):
            try:
                stop = should_stop()
            except Exception:  # noqa: BLE001 - an unanswerable check must not end the run; the next poll retries
                logger.warning("the cancel check failed; the tool keeps running", exc_info=True)
                continue
            if stop:
                self.fired = True
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return

    def close(self) -> None:
        self._done.set()
        self._thread.join()


def run_tool(tool_path: Path, tool_name: str, *, function: str = "run", params: dict[str, Any],
             output_dir: Path, broker: Broker, on_progress: Callable[[str], None] = _ignore,
             timeout: float = 300, console_url: str = "https://console.aws.amazon.com/",
             code_sha256: str | None = None, sandbox: SandboxOptions | None = None,
             should_stop: Callable[[], bool] | None = None) -> ToolRun:
    """Run `run(ctx, **params)` or `selftest(ctx)` of the tool at `tool_path` in its own sandboxed process.

    `code_sha256` is the approved hash: the file is refused unless its bytes have it, both here and where
    the tool's process loads them. Without one, the bytes as they are now are what runs (built-in tools
    run straight from the source tree). `sandbox` defaults to the configured one. `should_stop` is polled
    while the tool runs (a cancelled job): when it answers True the tool's processes are killed at once.
    """
    if function not in ("run", "selftest"):
        raise ValueError(f"function must be 'run' or 'selftest', not {function!r}")
    started_at, first_call = datetime.now(UTC), len(broker.records)
    options = sandbox or SandboxOptions.from_settings(load_settings())
    progress = _Progress(on_progress, options.redact_values)
    output_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    try:
        start = {"tool_name": tool_name, "function": function, "params": params, "account_id": broker.account_id,
                 "region": broker.config.region, "console_url": console_url,
                 "code_sha256": code_sha256 or hashlib.sha256(tool_path.read_bytes()).hexdigest()}
    except (BotoCoreError, ClientError) as exc:
        outcome = _Outcome(error=f"the worker could not identify its AWS account: {exc}",
                           error_type="AwsIdentityError")
    else:
        outcome, files = _staged(tool_path, start, options, broker, progress, timeout, output_dir, should_stop)
    secrets = options.redact_values
    return ToolRun(ok=outcome.ok, value=redact_value(outcome.value, secrets), error=redact(outcome.error, secrets),
                   error_type=outcome.error_type, files=files, calls=broker.records[first_call:],
                   progress=progress.lines, started_at=started_at, ended_at=datetime.now(UTC),
                   timed_out=outcome.timed_out)


def _staged(tool_path: Path, start: dict[str, Any], options: SandboxOptions, broker: Broker, progress: _Progress,
            timeout: float, output_dir: Path, should_stop: Callable[[], bool] | None = None,
            ) -> tuple[_Outcome, list[Path]]:
    """Stage the approved bytes, run them, and copy what the tool saved into `output_dir`."""
    try:
        identity = run_identity(options)
        stage = Stage.create(tool_path, start["tool_name"], start["code_sha256"], identity)
    except CodeChanged as exc:
        return _Outcome(error=str(exc), error_type="CodeChanged"), []
    except SandboxUnavailable as exc:
        return _Outcome(error=str(exc), error_type="SandboxUnavailable"), []
    try:
        broker.begin_run(stage.tool.read_text(encoding="utf-8", errors="replace"))
        outcome = _launch(start, stage, options, identity, broker, progress, timeout, should_stop)
    except (BotoCoreError, ClientError) as exc:
        outcome = _Outcome(error=f"the worker could not assume the read-only role for this run: {exc}",
                           error_type="AwsRoleError")
    try:
        files, skipped = stage.collect(output_dir, lambda data: redact_bytes(data, options.redact_values))
    finally:
        stage.remove()
    for note in skipped:
        progress.add(f"not kept as evidence: {note}")
    return outcome, files


def _start(launch: Launch, fd: int) -> tuple[subprocess.Popen[bytes], _OutputTail]:
    process = subprocess.Popen(
        launch.argv, pass_fds=(fd,), env=launch.env, cwd=launch.cwd, user=launch.user, group=launch.group,
        extra_groups=[] if launch.user is not None else None, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True)
    assert process.stdout is not None
    return process, _OutputTail(process.stdout)


def _launch(start: dict[str, Any], stage: Stage, options: SandboxOptions, identity: int | None, broker: Broker,
            progress: _Progress, timeout: float, should_stop: Callable[[], bool] | None = None) -> _Outcome:
    deadline = time.monotonic() + timeout
    ours, theirs = socket.socketpair()
    channel = wire.Channel(ours)
    with theirs:
        try:
            launch = plan(options, stage, theirs.fileno(), timeout, identity)
        except SandboxUnavailable as exc:
            channel.close()
            return _Outcome(error=str(exc), error_type="SandboxUnavailable")
        if not options.enabled:
            logger.warning(sandbox_off_warning())
            progress.add(sandbox_off_warning())
        logger.info("running %s with sandbox layers: %s", start["tool_name"], ", ".join(launch.layers) or "none")
        process, output = _start(launch, theirs.fileno())
    watch = _CancelWatch(process, should_stop) if should_stop else None
    bridge = BrowserBridge(start["console_url"], options, identity)
    message: dict[str, Any] | None = None
    timed_out = False
    try:
        channel.send({**start, "tool_path": launch.tool_path, "output_dir": launch.output_dir,
                      "confinement": launch.confinement.to_message()})
        message = _serve(channel, broker, bridge, deadline, progress)
    except TimeoutError:
        timed_out = True
    except wire.WireError as exc:
        message = {"type": "error", "error_type": "ProtocolError",
                   "message": f"the tool process broke the protocol: {exc}"}
    except OSError:
        message = None
    finally:
        if watch is not None:
            watch.close()
        _stop(process, grace=0 if timed_out else EXIT_GRACE_SECONDS)
        channel.close()
        bridge.close()
        broker.close_paginations()
    if watch is not None and watch.fired:
        return _Outcome(error="the run was cancelled by the user and its processes were stopped",
                        error_type="Cancelled")
    if timed_out:
        return _Outcome(error=f"the tool did not finish within {timeout:g} s and was stopped",
                        error_type="TimeoutError", timed_out=True)
    if message is None:
        return _Outcome(error=_trim(f"the tool process ended without a result (exit status "
                                    f"{process.returncode})\n{output.text()}"), error_type="ToolProcessDied")
    return _from_message(message, start["function"])
