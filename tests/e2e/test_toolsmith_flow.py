"""The agent writes its own tools: the seed's three scenarios and the approval rules, end to end.

Claude's turns are scripted at the wire; the Bolt app, Redis, RQ workers, the sandboxed tool runs and
moto are real. Approvals are clicks sent to the real app as signed block_actions.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from bot.demo_scripts import cloudwatch_logs_turns, dynamodb_screenshot_turns, rds_compare_turns
from tests.conftest import APPROVER, REQUESTER, SECOND_APPROVER, drain
from tests.e2e.slack_helpers import ask, cards, decide, refused, tool_calls
from workers.job_state import JobStore
from workers.registry import Registry
from workers.scripted_claude import text, tool_use

pytestmark = pytest.mark.slow

BUGGY_TOOL = '''"""Count the S3 buckets of the account."""

PARAMETERS = {"type": "object", "properties": {}, "required": []}


def run(ctx):
    buckets = ctx.client("s3").list_buckets()["Bucket"]
    ctx.save_json("bucket_count.json", {"count": len(buckets)})
    return {"summary": f"{len(buckets)} buckets", "count": len(buckets)}
'''


def uploads(slack) -> dict[str, bytes]:
    return {f["filename"]: f["content"] for f in slack.uploaded_files()}


def registry(conn, env) -> Registry:
    from pathlib import Path

    return Registry(conn, Path(env["AUDITBOT_DATA_DIR"]))


def test_new_cloudwatch_tool_is_written_approved_run_and_reused(web, slack, claude, conn, env, monkeypatch,
                                                                tmp_path):
    claude.enqueue(*cloudwatch_logs_turns()[:3])  # write, run, answer: no turns left over for the repeat
    ask(web, conn, "Export CloudWatch log group prod-app-logs from the last 7 days to JSON", event_id="Ev1",
        ts="1.1")
    [card] = cards(slack)
    assert card.header == "New tool export_cloudwatch_logs v1" and card.thread_ts == "1.1"
    card_text = json.dumps(card.blocks)
    assert "passed against simulated AWS" in card_text and "def selftest" in card_text
    assert "export_cloudwatch_logs.py" in uploads(slack), "the whole source is attached to the card"
    assert not any(name.endswith(".json") for name in uploads(slack)), "nothing runs before approval"
    assert JobStore(conn).load(next(iter(_job_ids(conn)))).status == "parked"

    decide(web, conn, card)
    decided = [c for c in slack.calls_to("chat.update") if c.args["ts"] == card.ts][-1]
    assert "Approved* by <@UAPPROVER>" in json.dumps(decided.args["blocks"])
    assert not any(b["type"] == "actions" for b in decided.args["blocks"])
    exported = json.loads(uploads(slack)["cloudwatch_logs_prod-app-logs_7d.json"])
    assert exported["count"] == 12_500 and len(exported["events"]) == 12_500
    manifest = json.loads(uploads(slack)["manifest.json"])
    assert manifest["runs"][0]["approver"] == APPROVER and manifest["runs"][0]["version"] == 1
    assert len(claude.requests) == 3, "write+check, run (after approval), answer"
    assert tool_calls(claude) == ["generate_new_tool", "export_cloudwatch_logs"]

    # A second worker with its own data dir reuses the approved tool: no code generation, two round trips.
    other_data = tmp_path / "worker-b"
    monkeypatch.setenv("AUDITBOT_DATA_DIR", str(other_data))
    first_requests = len(claude.requests)
    claude.enqueue(*cloudwatch_logs_turns("pdf"))
    ask(web, conn, "Export CloudWatch log group prod-app-logs from the last 7 days as a PDF", event_id="Ev2",
        ts="2.2")
    repeat = claude.requests[first_requests:]
    assert len(repeat) == 2
    assert any(t["name"] == "export_cloudwatch_logs" for t in repeat[0]["body"]["tools"])
    assert tool_calls(claude)[2:] == ["export_cloudwatch_logs"]
    assert list(other_data.glob("tools/export_cloudwatch_logs/v1-*/export_cloudwatch_logs.py"))
    pdf = tmp_path / "export.pdf"
    pdf.write_bytes(uploads(slack)["cloudwatch_logs_prod-app-logs_7d.pdf"])
    text_of_pdf = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "CloudWatch Logs export: prod-app-logs" in text_of_pdf and "12500 events" in text_of_pdf
    assert len(cards(slack)) == 1, "reuse needs no new approval"


def test_dynamodb_screenshot_extends_the_builtin_tool(web, slack, claude, conn, env):
    claude.enqueue(*dynamodb_screenshot_turns()[:3])
    ask(web, conn, "Take a screenshot of DynamoDB table user-sessions Metrics tab", event_id="Ev3", ts="3.3")
    [card] = cards(slack)
    assert card.header == "Change to aws_take_screenshot v2"
    assert "+CONSOLE_LINKS[\\\"dynamodb\\\"]" in json.dumps(card.blocks), "the card shows the diff"
    decide(web, conn, card)
    png = uploads(slack)["screenshot_dynamodb_table_user-sessions_monitoring.png"]
    assert png.startswith(b"\x89PNG")
    assert tool_calls(claude) == ["add_functionality_to_tool", "aws_take_screenshot"]
    assert registry(conn, env).current("aws_take_screenshot").version == 2

    before = len(claude.requests)
    claude.enqueue(tool_use("aws_take_screenshot", {"service": "dynamodb", "resource": "orders"}),
                   text("Here is the orders table."))
    ask(web, conn, "Screenshot the DynamoDB table orders", event_id="Ev4", ts="4.4")
    assert len(claude.requests) - before == 2 and len(cards(slack)) == 1
    assert "screenshot_dynamodb_table_orders.png" in uploads(slack)


def test_rds_snapshots_are_compared_with_a_new_tool(web, slack, claude, conn):
    claude.enqueue(*rds_compare_turns())
    ask(web, conn, "Compare RDS snapshots snap-old and snap-new and show what changed", event_id="Ev5", ts="5.5")
    decide(web, conn, cards(slack)[0])
    report = json.loads(uploads(slack)["rds_snapshot_diff_snap-old_vs_snap-new.json"])
    changed = {c["setting"]: (c["old"], c["new"]) for c in report["changes"]}
    assert changed["['AllocatedStorage']"] == (20, 100)
    assert changed["['MultiAZ']"] == ("False", "True") or changed["['MultiAZ']"] == (False, True)
    assert "['BackupRetentionPeriod']" in changed
    answer = slack.calls_to("chat.postMessage")[-1].args["text"]
    assert "AllocatedStorage']: 20 -> 100" in answer


def _buggy_turns(fix: bool) -> list:
    turns = [tool_use("generate_new_tool", {"tool_name": "count_buckets", "description": "Count S3 buckets.",
                                            "parameters": [], "functionality": "count", "code": BUGGY_TOOL}),
             tool_use("count_buckets", {})]
    if fix:
        turns += [tool_use("fix_tool_code", {"tool_name": "count_buckets", "old_code": '["Bucket"]',
                                             "new_code": '["Buckets"]'}),
                  tool_use("count_buckets", {})]
    return [*turns, lambda body: text("Result: " + json.dumps(body["messages"][-1]["content"][0])[:200])]


def test_rejected_version_never_runs(web, slack, claude, conn, env):
    claude.enqueue(*_buggy_turns(fix=False))
    ask(web, conn, "How many S3 buckets do we have?", event_id="Ev6", ts="6.6")
    decide(web, conn, cards(slack)[0], approve=False)
    result = claude.requests[-1]["body"]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "rejected by UAPPROVER" in result["content"]
    assert "bucket_count.json" not in uploads(slack)
    assert registry(conn, env).latest("count_buckets").status == "rejected"
    assert registry(conn, env).current("count_buckets") is None


def test_clicks_that_must_change_nothing(web, slack, claude, conn, env):
    claude.enqueue(*_buggy_turns(fix=False))
    ask(web, conn, "How many S3 buckets do we have?", event_id="Ev7", ts="7.7", user=SECOND_APPROVER)
    card = cards(slack)[0]
    assert "Only approvers" in refused(web, slack, card, user=REQUESTER)
    assert "Four-eyes" in refused(web, slack, card, user=SECOND_APPROVER)
    assert registry(conn, env).latest("count_buckets").status == "pending"
    decide(web, conn, card)
    assert "already approved" in refused(web, slack, card, user=APPROVER, approve=False)
    assert registry(conn, env).latest("count_buckets").status == "approved"


def test_failing_tool_is_fixed_and_rerun(web, slack, claude, conn, env, aws):
    claude.enqueue(*_buggy_turns(fix=True))
    ask(web, conn, "How many S3 buckets do we have?", event_id="Ev8", ts="8.8")
    decide(web, conn, cards(slack)[0])
    failed = claude.requests[2]["body"]["messages"][-1]["content"][0]
    assert failed["is_error"] is True and "KeyError" in failed["content"]
    fix_card = cards(slack)[1]
    assert fix_card.header == "Change to count_buckets v2"
    decide(web, conn, fix_card)
    count = json.loads(uploads(slack)["bucket_count.json"])["count"]
    assert count == len(aws.client("s3").list_buckets()["Buckets"]) > 0
    assert tool_calls(claude) == ["generate_new_tool", "count_buckets", "fix_tool_code", "count_buckets"]


def test_superseded_card_cannot_be_approved(web, slack, claude, conn, env):
    fixed = BUGGY_TOOL.replace('["Bucket"]', '["Buckets"]')
    claude.enqueue(
        tool_use("generate_new_tool", {"tool_name": "count_buckets", "description": "Count S3 buckets.",
                                       "parameters": [], "functionality": "count", "code": BUGGY_TOOL}),
        tool_use("fix_tool_code", {"tool_name": "count_buckets", "old_code": BUGGY_TOOL, "new_code": fixed}),
        tool_use("count_buckets", {}),
        text("done"),
    )
    ask(web, conn, "How many S3 buckets do we have?", event_id="Ev9", ts="9.9")
    first, second = cards(slack)
    assert "superseded" in refused(web, slack, first, user=APPROVER)
    decide(web, conn, second)
    assert "bucket_count.json" in uploads(slack)


def test_repair_rounds_are_bounded(web, slack, claude, conn, env):
    fixes = [tool_use("fix_tool_code", {"tool_name": "count_buckets", "old_code": f"# round {n}\n",
                                        "new_code": f"# round {n + 1}\n"}) for n in range(3)]
    claude.enqueue(
        tool_use("generate_new_tool", {"tool_name": "count_buckets", "description": "Count S3 buckets.",
                                       "parameters": [], "functionality": "count",
                                       "code": BUGGY_TOOL + "# round 0\n"}),
        *fixes, text("I stopped."))
    ask(web, conn, "How many S3 buckets do we have?", event_id="Ev10", ts="10.1")
    results = [r["body"]["messages"][-1]["content"][0] for r in claude.requests[1:]]
    assert [r["is_error"] for r in results[1:]] == [False, False, True]
    assert "Repair limit reached" in results[-1]["content"]
    assert registry(conn, env).latest("count_buckets").version == 3, "no third rewrite was stored"
    assert any("I am stopping here" in c.args["text"] for c in slack.calls_to("chat.postMessage"))


def test_unanswered_approval_expires(web, slack, claude, conn, env):
    from rq.registry import ScheduledJobRegistry

    from bot.jobs import expire_approval
    from bot.queueing import queue

    claude.enqueue(*_buggy_turns(fix=False))
    ask(web, conn, "How many S3 buckets do we have?", event_id="Ev11", ts="11.1")
    assert ScheduledJobRegistry(queue=queue(conn)).count == 1, "the expiry is scheduled when the job parks"
    card = cards(slack)[0]
    conn.zadd("auditbot:approvals:pending", {card.token: 1})
    assert expire_approval(card.token) == "expired"
    drain(conn)
    result = claude.requests[-1]["body"]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "expired" in result["content"]
    card_updates = [c for c in slack.calls_to("chat.update") if c.args["ts"] == card.ts]
    assert "*Expired* by nobody" in json.dumps(card_updates[-1].args["blocks"])
    assert "has expired" in refused(web, slack, card, user=APPROVER)


def _job_ids(conn) -> list[str]:
    return [k.decode().split(":")[2] for k in conn.scan_iter("auditbot:job:*") if k.count(b":") == 2]
