"""Retrieval, near-duplicates, retirement and find_tools on a real registry."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from rich.console import Console

from bench.tool_library import load_library
from bot.chat import run_chat
from workers.registry import Registry
from workers.scripted_claude import text, tool_use
from workers.settings import load_settings
from workers.tool_catalog import CORE_TOOLS, ToolCatalog, tokens
from workers.tool_usage import ToolUsage
from workers.toolsmith import Toolsmith


@pytest.fixture
def library(conn, tmp_path: Path) -> Registry:
    registry = Registry(conn, tmp_path / "data")
    registry.sync_builtins()
    load_library(registry, 60)
    return registry


def test_tokens_split_names_and_stem():
    assert tokens("iam_users_without_mfa") == ["iam", "user", "without", "mfa", "multi", "factor"]
    assert tokens("ListBucketEncryption") == tokens("list bucket encryption")
    assert "dynamodb" in tokens("DynamoDB table")


def test_small_libraries_are_offered_whole_and_large_ones_by_rank(library, conn):
    usage = ToolUsage(conn)
    whole = ToolCatalog(library, usage, offer_all_up_to=100)
    assert len(whole.offer("anything", [])) == len(library.names())
    ranked = ToolCatalog(library, usage, offer_all_up_to=20, top_k=5)
    offered = ranked.offer("Is automatic rotation enabled for the KMS key", ["iam_get_account_summary"])
    assert set(CORE_TOOLS) <= set(offered) and "iam_get_account_summary" in offered
    assert len(offered) == len(CORE_TOOLS) + 5 + 1
    assert ranked.search("users without MFA", 1)[0].name == "iam_users_without_mfa"


def test_retired_tools_are_never_offered_and_history_is_kept(library, conn):
    usage = ToolUsage(conn)
    catalog = ToolCatalog(library, usage, offer_all_up_to=1000)
    usage.retire("iam_users_without_mfa", "terminal:alice")
    assert "iam_users_without_mfa" not in ToolCatalog(library, usage, offer_all_up_to=1000).offer("x", [])
    usage.unretire("iam_users_without_mfa", "terminal:bob")
    assert "iam_users_without_mfa" in catalog.offer("x", [])
    assert [e["action"] for e in usage.lifecycle("iam_users_without_mfa")] == ["retired", "unretired"]
    assert library.current("iam_users_without_mfa") is not None, "nothing is deleted"


def test_stale_tools_rank_lower(library, conn):
    usage = ToolUsage(conn, stale_after_days=0.0001)
    catalog = ToolCatalog(library, usage, offer_all_up_to=20)
    time.sleep(0.05)
    stale = catalog.search("users without MFA", 1)[0].score
    usage.record("iam_users_without_mfa", ok=True, job_id="J", user="U", request="users without MFA")
    fresh = ToolCatalog(library, usage, offer_all_up_to=20).search("users without MFA", 1)[0]
    assert fresh.name == "iam_users_without_mfa" and fresh.score > stale


def test_near_duplicate_is_answered_with_neighbours(library, conn):
    catalog = ToolCatalog(library, ToolUsage(conn))
    smith = Toolsmith(library, selftest=lambda v: {"ok": True}, requested_by={"user": "U1"}, catalog=catalog)
    code = '"""List IAM users that have no MFA."""\n\nPARAMETERS = {"type": "object", "properties": {}}\n\n\n' \
           'def run(ctx):\n    return {"summary": "x"}\n'
    args = {"tool_name": "iam_users_without_mfa_v2", "description": "List IAM users that have no MFA device enabled",
            "parameters": [], "functionality": "list", "code": code}
    refused = smith.handle("generate_new_tool", args)
    assert refused.is_error and "iam_users_without_mfa(" in refused.text and refused.version is None
    assert not library.exists("iam_users_without_mfa_v2")
    assert smith.handle("generate_new_tool", {**args, "confirm_new": True}).is_error, "a reason is required"
    made = smith.handle("generate_new_tool", {**args, "confirm_new": True, "reason": "needs console data"})
    assert not made.is_error and "needs console data" in made.version.note
    assert "iam_users_without_mfa" in made.version.note


def test_find_tools_pulls_more_tools_into_the_job(library, env, claude, conn):
    claude.enqueue(tool_use("find_tools", {"query": "access key last used"}),
                   lambda body: tool_use("iam_get_access_key_last_used", {"access_key_id": "AKIAEXAMPLE"})
                   if any(t["name"] == "iam_get_access_key_last_used" for t in body["tools"]) else text("missing"),
                   text("done"))
    result = run_chat("Check our CloudTrail trails", load_settings(), console=Console(file=io.StringIO()), conn=conn)
    first_offer = [t["name"] for t in claude.requests[0]["body"]["tools"]]
    assert "iam_get_access_key_last_used" not in first_offer
    found = json.loads(claude.requests[1]["body"]["messages"][-1]["content"][0]["content"])
    assert found[0]["name"] == "iam_get_access_key_last_used"
    assert "iam_get_access_key_last_used" in [t["name"] for t in claude.requests[2]["body"]["tools"]]
    assert "iam_get_access_key_last_used" in result.job.offered


def test_claimed_success_with_an_empty_file_is_reported_as_not_collected(env, claude, conn):
    code = ('"""Save nothing but claim success."""\n\nPARAMETERS = {"type": "object", "properties": {}}\n\n\n'
            'def run(ctx):\n    ctx.save_text("report.csv", "")\n    return {"summary": "Exported everything"}\n')
    claude.enqueue(tool_use("generate_new_tool", {"tool_name": "hollow_report", "description": "d",
                                                  "parameters": [], "functionality": "f", "code": code}),
                   tool_use("hollow_report", {}), text("All evidence was collected."))
    result = run_chat("Make the report", load_settings(), assume_yes=True, console=Console(file=io.StringIO()),
                      conn=conn)
    tool_result = claude.requests[2]["body"]["messages"][-1]["content"][0]
    assert tool_result["is_error"] is True and "report.csv is empty" in tool_result["content"]
    answer = [t for kind, t in result.conversation.transcript if kind == "message"][-1]
    assert "Not collected" in answer and "hollow_report: report.csv is empty" in answer
