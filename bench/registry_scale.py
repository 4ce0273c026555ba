"""Does the tool library stay sharp as it grows? Prompt size per turn at 10, 100 and 500 tools, and
retrieval recall@5 on the labelled requests in bench/data/retrieval_requests.json.

Prompt size is measured on what actually reaches the Messages API (a loopback stand-in) for one
request through the real agent. The 10- and 100-tool libraries include the built-ins; the 500 row is all
500 library tools plus the built-ins. Goals: prompt at 500 tools <= 1.2x the 10-tool prompt; recall@5 >= 0.95.

    .venv/bin/python bench/registry_scale.py
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
from pathlib import Path

import fakeredis
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tool_library import load_library, requests  # noqa: E402
from bot.chat import run_chat  # noqa: E402
from bot.environment import patched_environ  # noqa: E402
from workers.registry import Registry  # noqa: E402
from workers.scripted_claude import ScriptedClaude, text  # noqa: E402
from workers.settings import load_settings  # noqa: E402
from workers.tool_catalog import ToolCatalog  # noqa: E402
from workers.tool_usage import ToolUsage  # noqa: E402

REQUEST = "List IAM users without MFA"


def library(size: int, scratch: Path) -> tuple[fakeredis.FakeRedis, Registry]:
    conn = fakeredis.FakeRedis()
    registry = Registry(conn, scratch / f"data-{size}")
    builtins = len(registry.sync_builtins())
    load_library(registry, size if size == 500 else size - builtins)
    return conn, registry


def prompt(conn, scratch: Path) -> dict:
    settings = load_settings(auditbot_evidence_dir=scratch / "evidence", auditbot_data_dir=scratch / "data")
    with ScriptedClaude([text("ok")]) as claude, patched_environ(
            {"ANTHROPIC_BASE_URL": claude.base_url, "ANTHROPIC_API_KEY": "bench"}):
        started = time.perf_counter()
        run_chat(REQUEST, settings, console=Console(file=io.StringIO()), conn=conn)
        seconds = time.perf_counter() - started
        body = claude.requests[0]["body"]
    return {"bytes": len(json.dumps(body, separators=(",", ":"))), "tools": len(body["tools"]),
            "tokens": len(json.dumps(body)) // 4, "seconds": seconds}


def recall_at_5(conn, registry: Registry) -> tuple[float, list]:
    catalog = ToolCatalog(registry, ToolUsage(conn))
    labelled = requests()
    misses = [(r["request"], r["tool"]) for r in labelled
              if r["tool"] not in [c.name for c in catalog.search(r["request"], 5)]]
    return 1 - len(misses) / len(labelled), misses


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        rows = {}
        for size in (10, 100, 500):
            conn, registry = library(size, scratch)
            rows[size] = prompt(conn, scratch)
        recall, misses = recall_at_5(conn, registry)
    base = rows[10]["bytes"]
    print(f"{'tools':>6}{'offered':>9}{'body bytes':>12}{'~tokens':>9}{'x 10-tool':>11}{'turn s':>8}")
    for size, row in rows.items():
        print(f"{size:>6}{row['tools']:>9}{row['bytes']:>12}{row['tokens']:>9}{row['bytes'] / base:>11.2f}"
              f"{row['seconds']:>8.2f}")
    print(f"recall@5 on {len(requests())} labelled requests at 500 tools: {recall:.3f} (goal >= 0.95)")
    for request, tool in misses:
        print(f"  missed: {request!r} -> {tool}")


if __name__ == "__main__":
    main()
