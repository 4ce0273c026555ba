"""Cancel: the status message's button and `/audit cancel` stop a job, a running tool's processes included."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from tests.conftest import APPROVER, REQUESTER, drain, wait_until
from tests.security.processes import gone_within, running_with
from tests.slack.helpers import (
    JOB_CANCEL,
    ask,
    cancel_value,
    register_tool,
    reply_text,
    status_posts,
    thread_texts,
)
from workers.job_state import JobStore
from workers.scripted_claude import text, tool_use

pytestmark = pytest.mark.slow

SLOW_TOOL = '''"""Wait on purpose: a tool that would run for two minutes and starts a helper process."""
import subprocess
import time

PARAMETERS = {{"type": "object", "properties": {{}}}}


def run(ctx):
    subprocess.Popen(["sleep", "{marker}"])
    ctx.progress("waiting")
    time.sleep(120)
    return {{"summary": "waited"}}
'''


def last_status(slack, ts: str) -> dict:
    """The status message's last update (waiting for the first: the thread is told after the ack)."""
    return wait_until(lambda: [c for c in slack.calls_to("chat.update") if c.args["ts"] == ts])[-1].args


def buttons(args: dict) -> list[str]:
    return [e.get("action_id") for b in args.get("blocks") or [] for e in b.get("elements") or []
            if b.get("type") == "actions"]


def test_cancel_button_stops_the_running_tool_and_says_so_in_the_thread(web, slack, claude, conn, env):
    marker = str(uuid.uuid4().int % 10**9 + 10**9)
    register_tool("slow_probe", SLOW_TOOL.format(marker=marker), APPROVER)
    claude.enqueue(tool_use("slow_probe", {}), text("never asked: the job was cancelled"))
    ask(web, conn, "Probe slowly", event_id="EvSlow", ts="1700000300.000100", run=False)
    status = status_posts(slack)[0]
    job_id = cancel_value(status)

    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker", "--burst"])
    try:
        wait_until(lambda: running_with(marker), timeout=90, interval=0.2)
        assert web.click(JOB_CANCEL, job_id, user=REQUESTER, message_ts=status.response["ts"],
                         thread_ts="1700000300.000100").status_code == 200
        wait_until(lambda: any("was cancelled by <@UREQUESTER>" in t
                               for t in thread_texts(slack, "C1", "1700000300.000100")), timeout=10)
        assert gone_within(marker, 5), "the tool's processes outlived the cancel"
        assert worker.wait(timeout=30) == 0
    finally:
        worker.kill()

    job = JobStore(conn).load(job_id)
    assert job is not None and job.status == "cancelled"
    assert len(claude.requests) == 1, "no Claude turn after the cancel"
    final = last_status(slack, status.response["ts"])
    assert "Cancelled by <@UREQUESTER>" in final["text"] and JOB_CANCEL not in buttons(final)
    assert any("Running slow_probe v1" in t for t in thread_texts(slack, "C1", "1700000300.000100"))
    told = slack.wait_for("chat.postEphemeral")[0].args
    assert told["user"] == REQUESTER and f"Cancelling job `{job_id}`" in told["text"]


def test_cancel_command_stops_a_queued_job_at_once(web, slack, claude, conn, env):
    ask(web, conn, "List IAM users", event_id="EvQ", ts="1700000400.000100", run=False)
    status = status_posts(slack)[0]
    job_id = cancel_value(status)

    assert "Only the people who asked" in reply_text(web.command(f"cancel {job_id}", user="UOTHER"))
    assert "Usage: `/audit cancel <job id>`" in reply_text(web.command("cancel my last request"))
    assert f"Job `{job_id}` is cancelled" in reply_text(web.command(f"cancel {job_id}"))
    wait_until(lambda: any(f"Job `{job_id}` was cancelled by <@UREQUESTER>" in t
                           for t in thread_texts(slack, "C1", "1700000400.000100")))
    final = last_status(slack, status.response["ts"])
    assert final["text"] == ":octagonal_sign: Cancelled by <@UREQUESTER>." and not buttons(final)

    drain(conn)
    assert claude.requests == [] and JobStore(conn).load(job_id).status == "cancelled"
    assert "already ended (cancelled)" in reply_text(web.command(f"cancel {job_id}", user=APPROVER))
