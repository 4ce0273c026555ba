"""The agent's code-writing tools against a real registry; selftests are recorded, not run, here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workers.registry import Registry
from workers.toolsmith import Toolsmith, approvable

GOOD = '''"""Count S3 buckets."""

PARAMETERS = {"type": "object", "properties": {"prefix": {"type": "string"}}, "required": []}


def run(ctx, prefix=None):
    names = [b["Name"] for b in ctx.client("s3").list_buckets()["Buckets"]]
    return {"summary": f"{len(names)} buckets", "count": len(names)}


def selftest(ctx):
    assert run(ctx)["count"] == 0
'''


@pytest.fixture
def smith(conn, tmp_path: Path):
    tested: list[int] = []

    def selftest(version):
        tested.append(version.version)
        return {"ok": "FAILS" not in version.source, "calls": 1, "error": "AssertionError: boom"}

    registry = Registry(conn, tmp_path / "data", builtin_dir=tmp_path / "none")
    smith = Toolsmith(registry, selftest, requested_by={"job_id": "J1", "user": "U1"})
    smith.tested = tested
    return smith


def test_generate_with_code_checks_and_selftests_in_one_call(smith):
    result = smith.handle("generate_new_tool", {"tool_name": "count_buckets", "description": "Count S3 buckets.",
                                                "parameters": [], "functionality": "count", "code": GOOD})
    assert not result.is_error and "Static checks: passed" in result.text and "Selftest: passed" in result.text
    assert smith.tested == [1] and approvable(result.version)
    assert result.version.requested_by == {"job_id": "J1", "user": "U1"}


def test_duplicate_names_and_bad_names_are_refused(smith):
    args = {"tool_name": "count_buckets", "description": "d", "parameters": [], "functionality": "f", "code": GOOD}
    smith.handle("generate_new_tool", args)
    again = smith.handle("generate_new_tool", args)
    assert again.is_error and "already exists" in again.text
    bad = smith.handle("generate_new_tool", {**args, "tool_name": "Count-Buckets"})
    assert bad.is_error and "snake_case" in bad.text


def test_skeleton_then_implement(smith):
    skeleton = smith.handle("generate_new_tool", {
        "tool_name": "list_trails", "description": "List CloudTrail trails.",
        "parameters": [{"name": "region_name", "type": "string", "required": True, "description": "region"},
                       {"name": "limit", "type": "integer"}],
        "functionality": "list every trail"})
    assert "skeleton" in skeleton.text and not approvable(skeleton.version)
    assert "def run(ctx, region_name, limit=None):" in skeleton.version.source
    filled = smith.handle("implement_missing_function", {
        "tool_name": "list_trails", "function_name": "run",
        "implementation": "def run(ctx, region_name, limit=None):\n"
                          "    trails = ctx.client('cloudtrail').describe_trails()['trailList']\n"
                          "    return {'summary': f'{len(trails)} trails'}"})
    assert filled.version.version == 2 and filled.version.parent == 1
    assert not filled.is_error and approvable(filled.version)


def test_blocking_findings_come_back_with_line_numbers(smith):
    result = smith.handle("generate_new_tool", {"tool_name": "sneaky", "description": "d", "parameters": [],
                                                "functionality": "f", "code": GOOD.replace(
                                                    "    names =", "    import os\n    names =")})
    assert result.is_error and "BLOCKING" in result.text and "L7:" in result.text
    assert smith.tested == [], "code that fails its checks is never run, not even in the selftest"


def test_fix_and_failed_selftest(smith):
    smith.handle("generate_new_tool", {"tool_name": "count_buckets", "description": "d", "parameters": [],
                                       "functionality": "f", "code": GOOD.replace("== 0", "== 0  # FAILS")})
    broken = smith.registry.latest("count_buckets")
    assert not approvable(broken)
    fixed = smith.handle("fix_tool_code", {"tool_name": "count_buckets", "old_code": "  # FAILS", "new_code": ""})
    assert approvable(fixed.version) and fixed.version.parent == 1
    missing = smith.handle("fix_tool_code", {"tool_name": "count_buckets", "old_code": "nope", "new_code": "x"})
    assert missing.is_error and "not found" in missing.text


def test_search_and_read(smith):
    smith.handle("generate_new_tool", {"tool_name": "count_buckets", "description": "d", "parameters": [],
                                       "functionality": "f", "code": GOOD})
    hits = json.loads(smith.handle("search_implementation_examples", {"pattern": r"list_buckets"}).text)
    assert hits[0]["tool"] == "count_buckets" and hits[0]["line"] == 7 and "list_buckets" in hits[0]["code"]
    assert smith.handle("search_implementation_examples", {"pattern": "("}).is_error
    section = smith.handle("read_tool_source", {"tool_name": "count_buckets", "section": "selftest"}).text
    assert section.splitlines()[1] == "def selftest(ctx):"
    assert smith.handle("read_tool_source", {"tool_name": "nope"}).is_error


def test_test_tool_reruns_checks_and_selftest_on_the_newest_version(smith):
    smith.handle("generate_new_tool", {"tool_name": "count_buckets", "description": "d", "parameters": [],
                                       "functionality": "f", "code": GOOD})
    report = smith.handle("test_tool", {"tool_name": "count_buckets"})
    assert not report.is_error and "Selftest: passed" in report.text and smith.tested == [1, 1]
    assert smith.registry.get("count_buckets", 1).selftest["ok"] is True
