"""A whole request through the agent: the thread gets the files, the signed manifest and its signature."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from bot.chat import run_chat
from bot.demo_scripts import export_logs_turns
from workers.evidence_verify import verify_folder
from workers.settings import load_settings
from workers.signing import Signer


def test_a_request_ends_with_a_signed_verifiable_manifest_in_the_thread(env, claude, conn):
    claude.enqueue(*export_logs_turns())
    settings = load_settings()

    result = run_chat("Export CloudWatch log group prod-app-logs for the last 7 days to JSON", settings,
                      assume_yes=False, console=Console(file=io.StringIO()), conn=conn)

    assert result.outcome == "done"
    folder = Path(result.job.evidence_dir)
    assert [p.name for p in result.conversation.files] == ["prod-app-logs-7d.json", "manifest.json",
                                                           "manifest.json.sig"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["claude"] == {"model": "claude-test-model", "turns": 2}
    assert manifest["collection"]["started"] <= manifest["collection"]["ended"]
    assert manifest["time_window"]["kind"] == "range" and manifest["renew_by"]
    assert manifest["store"] == {"kind": "local folder"}
    key = Signer.load_or_create(settings.evidence_key_path)
    assert manifest["signing"] == key.describe()
    report = verify_folder(folder, key.public)
    assert report.ok and report.files == 1, report.problems
