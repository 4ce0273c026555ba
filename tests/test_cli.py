"""The `auditbot` command as users run it: a subprocess, real Redis, simulated AWS, scripted Claude."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo_scripts import cloudwatch_logs_turns
from workers.registry import Registry


def auditbot(*args: str, env: dict[str, str], input: str | None = None, timeout: float = 240):
    return subprocess.run([sys.executable, "-m", "bot", *args], env={**os.environ, **env, "COLUMNS": "200"},
                          capture_output=True, text=True, input=input, timeout=timeout)


def test_bad_configuration_stops_with_one_line_naming_the_variable(env):
    result = auditbot("tools", "list", env={**env, "PORT": "eighty"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "auditbot: configuration error in PORT: Input should be a valid integer, unable to parse string as an integer"]
    missing = auditbot("web", env={**env, "SLACK_BOT_TOKEN": ""})
    assert missing.returncode == 2 and "SLACK_BOT_TOKEN is required" in missing.stderr


def test_tools_commands(env, conn):
    listing = auditbot("tools", "list", env=env)
    assert listing.returncode == 0
    for name in ("aws_export_data", "aws_take_screenshot", "list_aws_resources"):
        assert name in listing.stdout
    registry = Registry(conn, Path(env["AUDITBOT_DATA_DIR"]))
    base = registry.current("list_aws_resources")
    registry.add_version("list_aws_resources", base.source + "\n# tweak\n", parent=1)
    history = auditbot("tools", "history", "list_aws_resources", env=env)
    assert "pending" in history.stdout and "built-in" in history.stdout
    approved = auditbot("tools", "approve", "list_aws_resources", "2", env=env)
    assert approved.returncode == 0 and "approved by terminal:" in approved.stdout
    assert registry.current("list_aws_resources").version == 2
    assert auditbot("tools", "approve", "list_aws_resources", "2", env=env).returncode == 1
    assert auditbot("tools", "rollback", "list_aws_resources", "1", env=env).returncode == 0
    assert registry.current("list_aws_resources").version == 1
    shown = auditbot("tools", "show", "list_aws_resources", "2", env=env)
    assert "# tweak" in shown.stdout and "v2 approved" in shown.stdout
    assert auditbot("tools", "show", "nope", env=env).returncode == 1


@pytest.mark.slow
def test_chat_in_the_terminal_with_approval_prompt(env, claude, tmp_path):
    claude.enqueue(*cloudwatch_logs_turns()[:3])
    result = auditbot("chat", "--simulated-aws", "Export CloudWatch log group prod-app-logs from the last 7 days",
                      env={**env, "REDIS_URL": "redis://127.0.0.1:1/0"}, input="y\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "in-memory registry" in result.stdout
    assert "No terminal to ask for approval: rejecting" in result.stdout, "stdin is not a TTY here"
    assert "rejected" in claude.requests[-1]["body"]["messages"][-1]["content"][0]["content"]


@pytest.mark.slow
def test_chat_with_yes_collects_evidence(env, claude):
    claude.enqueue(*cloudwatch_logs_turns()[:3])
    result = auditbot("chat", "--simulated-aws", "--yes",
                      "Export CloudWatch log group prod-app-logs from the last 7 days", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    folder = Path(result.stdout.split("Evidence folder:")[1].split()[0])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["runs"][0]["approver"].startswith("terminal:")
    assert json.loads((folder / "cloudwatch_logs_prod-app-logs_7d.json").read_text())["count"] == 12_500


@pytest.mark.slow
def test_demo_runs_offline(env):
    offline = {k: v for k, v in env.items() if not k.startswith(("ANTHROPIC", "AWS_"))}
    result = auditbot("demo", "export-logs", "--yes", env=offline)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Claude's turns are scripted" in result.stdout and "Evidence folder:" in result.stdout
    unknown = auditbot("demo", "nope", env=offline)
    assert unknown.returncode == 2 and "unknown scenario" in unknown.stderr


def test_import_retire_and_usage_columns(env, conn, tmp_path):
    from bench.tool_library import write_library

    [path] = write_library(tmp_path / "reviewed", 1)
    imported = auditbot("tools", "import", str(path), "--name", "mfa_report", env=env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "Static checks: passed" in imported.stdout and "auditbot tools approve mfa_report 1" in imported.stdout
    registry = Registry(conn, Path(env["AUDITBOT_DATA_DIR"]))
    assert registry.latest("mfa_report").status == "pending" and registry.current("mfa_report") is None
    assert auditbot("tools", "approve", "mfa_report", "1", env=env).returncode == 0
    assert "retired" in auditbot("tools", "retire", "mfa_report", env=env).stdout
    listing = auditbot("tools", "list", env=env).stdout
    row = next(line for line in listing.splitlines() if "mfa_report" in line)
    assert "retired" in row and "fail %" in listing
    assert auditbot("tools", "unretire", "mfa_report", env=env).returncode == 0
    assert "unretired by terminal:" in auditbot("tools", "history", "mfa_report", env=env).stdout
    bad = tmp_path / "bad_tool.py"
    bad.write_text('"""Bad."""\nimport os\nPARAMETERS = {"type": "object", "properties": {}}\n\n\ndef run(ctx):\n'
                   '    return {"summary": os.getcwd()}\n')
    refused = auditbot("tools", "import", str(bad), env=env)
    assert refused.returncode == 1 and "BLOCKING" in refused.stdout
