"""A request typed in Slack comes back as evidence in its thread: the real app, Redis, RQ, SDKs."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from bot.demo_scripts import export_logs_turns
from tests.conftest import REQUESTER, drain, wait_until
from workers.scripted_claude import error, text, tool_use

pytestmark = pytest.mark.slow


def mention(text_: str, ts: str = "1700000000.000100", channel: str = "C1") -> dict:
    return {"type": "app_mention", "user": REQUESTER, "text": f"<@UBOT> {text_}", "ts": ts, "channel": channel}


def queued_jobs(conn) -> int:
    from bot.queueing import queue

    return queue(conn).count


def assert_evidence_round_trip(slack, env) -> dict:
    """The uploaded JSON's sha256 equals the manifest's, and the manifest names the request."""
    uploads = {f["filename"]: f for f in slack.uploaded_files()}
    manifest = json.loads(uploads["manifest.json"]["content"])
    data_files = [f for f in manifest["files"] if f["name"].endswith(".json")]
    assert data_files, manifest
    for entry in data_files:
        assert hashlib.sha256(uploads[entry["name"]]["content"]).hexdigest() == entry["sha256"]
    on_disk = next(Path(env["AUDITBOT_EVIDENCE_DIR"]).glob("FY*/*/*/manifest.json"))
    assert json.loads(on_disk.read_text())["files"] == manifest["files"]
    return manifest


def test_mention_becomes_evidence_in_thread(web, slack, claude, conn, env):
    claude.enqueue(*export_logs_turns())
    response = web.event(mention("Export CloudWatch log group prod-app-logs for the last 7 days to JSON"),
                         event_id="Ev1")
    assert response.status_code == 200
    status = slack.wait_for("chat.postMessage")[0]
    assert status.args["thread_ts"] == "1700000000.000100" and "Working on it" in status.args["text"]
    wait_until(lambda: queued_jobs(conn) == 1)
    drain(conn)

    manifest = assert_evidence_round_trip(slack, env)
    assert manifest["request"]["user"] == REQUESTER and manifest["request"]["channel"] == "C1"
    assert manifest["identity"]["account"] == "123456789012"
    run = manifest["runs"][0]
    assert run["tool"] == "aws_export_data" and run["approver"] == "built-in"
    exported = json.loads(slack.uploaded_files()[0]["content"])
    assert len(exported["items"]) == 12_500, "every page of filter_log_events must be exported"
    call = run["api_calls"][-1]
    assert call["operation"] == "FilterLogEvents" and call["pages"] >= 2 and call["pagination_complete"] is True
    answers = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
    assert any("12500" in t or "12,500" in t for t in answers), answers
    updates = [c.args["text"] for c in slack.calls_to("chat.update")]
    assert any("Done" in t for t in updates)
    requests = claude.requests
    assert all(r["body"]["system"][0].get("cache_control") for r in requests)
    assert all(r["body"]["tools"][-1].get("cache_control") for r in requests)


def test_slash_command_runs_in_a_new_thread(web, slack, claude, conn, env):
    claude.enqueue(*export_logs_turns())
    assert web.command("Export CloudWatch log group prod-app-logs for the last 7 days to JSON").status_code == 200
    root = slack.wait_for("chat.postMessage")[0]
    assert "asked via /audit" in root.args["text"]
    status = slack.wait_for("chat.postMessage", count=2)[1]
    assert status.args["thread_ts"] == root.response["ts"]
    wait_until(lambda: queued_jobs(conn) == 1)
    drain(conn)
    assert_evidence_round_trip(slack, env)


def test_direct_message_is_a_request(web, slack, claude, conn, env):
    claude.enqueue(*export_logs_turns())
    event = {"type": "message", "channel_type": "im", "channel": "D1", "user": REQUESTER, "ts": "1700000001.1",
             "text": "Export CloudWatch log group prod-app-logs for the last 7 days to JSON"}
    assert web.event(event, event_id="EvDM").status_code == 200
    wait_until(lambda: queued_jobs(conn) == 1)
    drain(conn)
    assert_evidence_round_trip(slack, env)
    assert {c.args["channel"] for c in slack.calls_to("chat.postMessage")} == {"D1"}


def test_duplicate_delivery_gives_one_job(web, slack, conn):
    event = mention("List IAM users")
    assert web.event(event, event_id="EvDup").status_code == 200
    assert web.event(event, event_id="EvDup", headers={"X-Slack-Retry-Num": "1",
                                                       "X-Slack-Retry-Reason": "http_timeout"}).status_code == 200
    wait_until(lambda: queued_jobs(conn) == 1)
    slack.wait_for("chat.postMessage")
    time.sleep(0.5)
    assert queued_jobs(conn) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_forged_and_stale_signatures_are_refused(web, conn):
    assert web.event(mention("x"), event_id="Ev2", secret="wrong-secret").status_code == 401
    assert web.event(mention("x"), event_id="Ev3", timestamp=1_600_000_000).status_code == 401
    assert queued_jobs(conn) == 0


def test_bad_input_gets_clear_answers(web, slack, conn):
    web.event(mention(""), event_id="EvEmpty")
    assert "without a request" in slack.wait_for("chat.postMessage")[0].args["text"]
    web.event(mention("x" * 4001, ts="2.2"), event_id="EvLong")
    assert "at most 4,000" in slack.wait_for("chat.postMessage", count=2)[1].args["text"]
    reply = web.command("frobnicate")
    assert "I don't know `/audit frobnicate`" in reply.text
    assert "auditbot" in web.command("help").text
    web.event({**mention("hello"), "bot_id": "BOTHER"}, event_id="EvBot")
    assert queued_jobs(conn) == 0


def test_healthz(web):
    reply = web.client.get("/healthz")
    assert reply.status_code == 200 and reply.json()["redis"] == "ok"


def test_redis_down_at_ack_time(env, slack, monkeypatch):
    from tests.conftest import WebApp, free_port

    down = {**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    app = WebApp(down)
    try:
        assert app.client.get("/healthz").status_code == 503
        assert app.event(mention("List IAM users"), event_id="EvDown").status_code == 200
        assert "can't queue" in slack.wait_for("chat.postMessage")[0].args["text"]
    finally:
        app.stop()


def test_tool_exception_goes_back_to_claude_and_job_continues(web, slack, claude, conn):
    claude.enqueue(
        tool_use("aws_export_data", {"service": "logs", "operation": "describe_nothing_at_all"}),
        lambda body: text("The export failed: " + body["messages"][-1]["content"][0]["content"][:80]),
    )
    web.event(mention("Export something odd"), event_id="EvErr")
    wait_until(lambda: queued_jobs(conn) == 1)
    drain(conn)
    result = claude.requests[1]["body"]["messages"][-1]["content"][0]
    assert result["type"] == "tool_result" and result["is_error"] is True
    assert any("The export failed" in c.args["text"] for c in slack.calls_to("chat.postMessage"))


def test_claude_overloaded_is_told_and_rescheduled(web, slack, claude, conn):
    from rq.registry import ScheduledJobRegistry

    from bot.queueing import queue

    for _ in range(5):
        claude.enqueue(error(529, "overloaded_error", "Overloaded"))
    web.event(mention("List IAM users"), event_id="EvBusy")
    wait_until(lambda: queued_jobs(conn) == 1)
    drain(conn)
    updates = [c.args["text"] for c in slack.calls_to("chat.update")]
    assert any("Claude is unavailable" in t and "Retrying in 30 s" in t for t in updates), updates
    assert ScheduledJobRegistry(queue=queue(conn)).count == 1


def test_missing_aws_credentials_get_a_clear_message(web, slack, claude, conn, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    claude.enqueue(tool_use("list_aws_resources", {"resource_types": ["s3_buckets"]}),
                   text("I could not reach AWS."))
    web.event(mention("List S3 buckets"), event_id="EvNoCreds")
    wait_until(lambda: queued_jobs(conn) == 1)
    drain(conn)
    texts = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
    assert any("No AWS credentials are configured" in t for t in texts), texts
