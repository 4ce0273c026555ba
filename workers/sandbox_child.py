"""The tool's process: `python -S -s -P -m workers.sandbox_child <fd>`, usually inside bubblewrap.

It reads one start message from the inherited socket, reads the tool file and checks that its sha256
is the approved one, confines itself (rlimits, Landlock, seccomp: sandbox_confine) and only then runs
the tool's code: `run(ctx, **params)` or `selftest(ctx)`. It answers with one `result` or `error`
message. It holds no credentials and needs only the interpreter, the `workers` modules imported here,
botocore's exceptions and the tool file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import socket
import sys
import traceback
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from workers.aws_proxy import BrokerLink
from workers.sandbox_confine import Confinement, confine
from workers.tool_context import ToolContext
from workers.wire import Channel, WireError

TRACEBACK_LINES = 15


class CodeChanged(ImportError):
    """The file holds other bytes than the ones approved."""


def _read_tool(path: str, name: str, code_sha256: str) -> tuple[ModuleType, bytes]:
    """The tool's empty module and the bytes to run in it, which are exactly the approved bytes."""
    if not name.isidentifier() or name in sys.modules:
        raise ImportError(f"{name!r} cannot be a tool name: not an identifier or the name of a loaded module")
    with open(path, "rb") as file:
        data = file.read()
    actual = hashlib.sha256(data).hexdigest()
    if actual != code_sha256:
        raise CodeChanged(f"the tool file's sha256 is {actual}, not the approved {code_sha256}; it was not run")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"cannot load a module from {path}")
    return importlib.util.module_from_spec(spec), data


def _load_tool(start: dict[str, Any]) -> ModuleType:
    """Check the code, confine this process, then execute the code: nothing of the tool runs unconfined.

    The bytes are compiled as UTF-8 text, so a coding cookie (utf-7 ...) cannot make them run as other
    text than the reviewer read.
    """
    module, data = _read_tool(start["tool_path"], start["tool_name"], start["code_sha256"])
    code = compile(data.decode("utf-8-sig"), start["tool_path"], "exec", dont_inherit=True)
    confine(Confinement.from_message(start["confinement"]))
    sys.modules[module.__name__] = module
    exec(code, module.__dict__)
    return module


def _plain(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"the result holds a {type(value).__name__}, which is not JSON-able; "
                    "return strings, numbers, booleans, lists and dicts")


def _call(start: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    module = _load_tool(start)
    if start["function"] == "selftest":
        module.selftest(ctx)
        return {}
    value = module.run(ctx, **start["params"])
    if not isinstance(value, dict):
        raise TypeError(f"run must return a dict, not {type(value).__name__}")
    return json.loads(json.dumps(value, default=_plain, allow_nan=False))


def _tool_traceback(exc: BaseException, tool_path: str) -> str:
    """The tool's own frames and the exception, last lines only: what its author needs to fix it."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == tool_path]
    text = "".join(["Traceback (most recent call last):\n", *traceback.format_list(frames),
                    *traceback.format_exception_only(exc)])
    return "\n".join(text.splitlines()[-TRACEBACK_LINES:])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    channel = Channel(socket.socket(fileno=int(args[0])))
    link = BrokerLink(channel)
    start = channel.receive()
    if start is None:
        return 2
    ctx = ToolContext(link, output_dir=Path(start["output_dir"]), account_id=start["account_id"],
                      region=start["region"], console_url=start["console_url"])
    try:
        outcome = {"type": "result", "value": _call(start, ctx)}
    except (Exception, SystemExit) as exc:
        outcome = {"type": "error", "error_type": type(exc).__name__, "message": str(exc),
                   "traceback": _tool_traceback(exc, start["tool_path"])}
    try:
        link.notify(outcome)
    except WireError as exc:
        link.notify({"type": "error", "error_type": "WireError", "message": f"the outcome cannot be sent: {exc}",
                     "traceback": ""})
    return 0


if __name__ == "__main__":
    sys.exit(main())
