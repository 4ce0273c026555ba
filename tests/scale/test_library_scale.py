"""A library that stays sharp at 500 tools: retrieval keeps the prompt small and finds the right tool."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.tool_library import load_library
from bot.chat import run_chat
from workers.registry import Registry
from workers.scripted_claude import text, tool_use
from workers.settings import load_settings
from workers.tool_usage import ToolUsage

pytestmark = pytest.mark.slow
REQUEST = "List IAM users without MFA"


def ask(claude, conn, env) -> tuple[dict, object]:
    """One terminal request whose scripted Claude calls the MFA tool only if it is offered."""
    def first_turn(body: dict):
        if any(t["name"] == "iam_users_without_mfa" for t in body["tools"]):
            return tool_use("iam_users_without_mfa", {})
        return text("No such tool is offered.")

    claude.enqueue(first_turn, lambda body: text("Here they are."))
    before = len(claude.requests)
    result = run_chat(REQUEST, load_settings(), assume_yes=False, console=Console(file=io.StringIO()), conn=conn)
    return claude.requests[before]["body"], result


def body_size(body: dict) -> int:
    return len(json.dumps(body, separators=(",", ":")))


def test_500_tools_keep_the_prompt_small_and_the_right_tool_runs(env, claude, conn):
    registry = Registry(conn, Path(env["AUDITBOT_DATA_DIR"]))
    builtins = len(registry.sync_builtins())
    load_library(registry, 10 - builtins)
    small_body, small = ask(claude, conn, env)
    assert small.outcome == "done" and len(registry.names()) == 10

    load_library(registry, 500, start=10 - builtins)
    assert len(registry.names()) == 500 + builtins
    big_body, big = ask(claude, conn, env)
    assert big.outcome == "done"
    offered = [t["name"] for t in big_body["tools"]]
    assert "iam_users_without_mfa" in offered and "find_tools" in offered
    assert body_size(big_body) <= 1.2 * body_size(small_body), (body_size(big_body), body_size(small_body))
    called = [b["name"] for r in claude.requests for m in r["body"]["messages"] if m["role"] == "assistant"
              for b in m["content"] if b.get("type") == "tool_use"]
    assert "generate_new_tool" not in called
    users = json.loads(next(Path(big.job.evidence_dir).glob("iam_users_without_mfa*.json")).read_text())["users"]
    assert {u["user"] for u in users} == {"bob", "carol"}
    used = ToolUsage(conn).usage("iam_users_without_mfa")
    assert (used.uses, used.successes, used.failures) == (2, 2, 0) and used.last_success is not None
    assert ToolUsage(conn).served("iam_users_without_mfa")[0]["request"] == REQUEST

