"""Run one tool function in a child process and serve its AWS calls through a broker.

The child gets a socketpair end, a cleared environment and a scratch HOME; it holds no credentials.
This side answers its requests with `Broker.handle`, passes its progress lines on, stops it at the
wall-clock limit (the whole process group, so browsers go too), and collects the files it left in
`output_dir` as evidence. `build_child_command` is the one place that says how the child starts, so a
sandbox (bubblewrap, seccomp, another uid) can wrap it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from workers import wire
from workers.broker import Broker, CallRecord

RESULT_CAP_BYTES = 1024 * 1024
PROGRESS_LINE_CHARS = 500
PROGRESS_LINES = 200
ERROR_CHARS = 4000
OUTPUT_TAIL_LINES = 20
CHILD_PATH = "/usr/local/bin:/usr/bin:/bin"


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

    def __init__(self, on_progress: Callable[[str], None]) -> None:
        self.lines: list[str] = []
        self._on_progress = on_progress

    def add(self, text: object) -> None:
        if len(self.lines) > PROGRESS_LINES:
            return
        line = str(text)[:PROGRESS_LINE_CHARS]
        if len(self.lines) == PROGRESS_LINES:
            line = "(further progress lines are not shown)"
        self.lines.append(line)
        self._on_progress(line)


def build_child_command(fd: int) -> list[str]:
    """The command that starts a tool's process on socket `fd`; the seam a sandbox wraps."""
    return [sys.executable, "-I", "-m", "workers.sandbox_child", str(fd)]


def child_environment(home: Path) -> dict[str, str]:
    """All the environment a tool's process gets: nothing inherited, so no credential can leak in."""
    return {"PATH": CHILD_PATH, "LANG": "C.UTF-8", "HOME": str(home), "TMPDIR": str(home)}


def _ignore(_: str) -> None:
    """The default progress callback."""


def _serve(channel: wire.Channel, broker: Broker, deadline: float, progress: _Progress) -> dict[str, Any] | None:
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
        reply = broker.handle(message)
        if reply is not None:
            try:
                line = wire.encode(reply)
            except wire.WireError as exc:
                line = wire.encode({"ok": False, "failure": "ResponseTooLarge", "message": str(exc)})
            channel.send_line(line)


def _trim(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else "...\n" + text[-ERROR_CHARS:]


def _output_tail(output: IO[bytes]) -> str:
    output.seek(0, os.SEEK_END)
    output.seek(max(output.tell() - 8192, 0))
    lines = output.read().decode("utf-8", "replace").splitlines()
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


def _evidence_files(output_dir: Path) -> list[Path]:
    """Regular files only: a symlink left by the tool must not make the worker upload what it points at."""
    files = []
    for folder, _, names in os.walk(output_dir):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                files.append(path)
    return sorted(files)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the child's whole process group (browsers, stray subprocesses), then reap the child."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def run_tool(tool_path: Path, tool_name: str, *, function: str = "run", params: dict[str, Any],
             output_dir: Path, broker: Broker, on_progress: Callable[[str], None] = _ignore,
             timeout: float = 300, console_url: str = "https://console.aws.amazon.com/") -> ToolRun:
    """Run `run(ctx, **params)` or `selftest(ctx)` of the tool at `tool_path` in its own process."""
    if function not in ("run", "selftest"):
        raise ValueError(f"function must be 'run' or 'selftest', not {function!r}")
    started_at, first_call = datetime.now(UTC), len(broker.records)
    progress = _Progress(on_progress)
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        account_id = broker.account_id
    except (BotoCoreError, ClientError) as exc:
        outcome = _Outcome(error=f"the worker could not identify its AWS account: {exc}",
                           error_type="AwsIdentityError")
    else:
        start = {"tool_path": str(tool_path), "tool_name": tool_name, "function": function, "params": params,
                 "output_dir": str(output_dir), "account_id": account_id, "region": broker.config.region,
                 "console_url": console_url}
        outcome = _launch(start, broker, progress, timeout)
    return ToolRun(ok=outcome.ok, value=outcome.value, error=outcome.error, error_type=outcome.error_type,
                   files=_evidence_files(output_dir), calls=broker.records[first_call:], progress=progress.lines,
                   started_at=started_at, ended_at=datetime.now(UTC), timed_out=outcome.timed_out)


def _launch(start: dict[str, Any], broker: Broker, progress: _Progress, timeout: float) -> _Outcome:
    deadline = time.monotonic() + timeout
    ours, theirs = socket.socketpair()
    channel = wire.Channel(ours)
    with (tempfile.TemporaryDirectory(prefix="auditbot-tool-", ignore_cleanup_errors=True) as home,
          tempfile.TemporaryFile() as output):
        with theirs:
            process = subprocess.Popen(
                build_child_command(theirs.fileno()), pass_fds=(theirs.fileno(),), env=child_environment(Path(home)),
                cwd=home, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            channel.send(start)
            message = _serve(channel, broker, deadline, progress)
        except TimeoutError:
            return _Outcome(error=f"the tool did not finish within {timeout:g} s and was stopped",
                            error_type="TimeoutError", timed_out=True)
        except wire.WireError as exc:
            message = {"type": "error", "error_type": "ProtocolError",
                       "message": f"the tool process broke the protocol: {exc}"}
        except OSError:
            message = None
        finally:
            _stop(process)
            channel.close()
            broker.close_paginations()
        if message is None:
            return _Outcome(error=_trim(f"the tool process ended without a result (exit status "
                                        f"{process.returncode})\n{_output_tail(output)}"),
                            error_type="ToolProcessDied")
        return _from_message(message, start["function"])
