"""A worker that dies mid-request loses nothing: RQ retries the job, which takes over the dead runner's
lock and re-runs the tool calls that had no results, from the last checkpoint."""

from __future__ import annotations

import json

import pytest
from rq.job import Job

from bot.queueing import enqueue_request, queue
from bot.slack_conversation import web_client
from tests.conftest import REQUESTER, drain
from workers.conversation import ThreadRef
from workers.job_state import JobState, JobStore
from workers.scripted_claude import text

pytestmark = pytest.mark.slow


def test_interrupted_tool_call_is_run_again_after_a_crash(env, slack, claude, conn):
    jobs = JobStore(conn)
    posted = web_client(env["SLACK_BOT_TOKEN"], slack.base_url).chat_postMessage(channel="C1", text="Working")
    job = JobState(id="20261125T000000-crash001", request="List S3 buckets",
                   thread=ThreadRef("slack", "C1", "9.9", REQUESTER), status="running",
                   status_message={"id": posted["ts"], "data": {"channel": "C1"}}, turns=1)
    call = {"type": "tool_use", "id": "toolu_crash", "name": "list_aws_resources",
            "input": {"resource_types": ["s3_buckets"]}}
    jobs.checkpoint(job, [{"role": "user", "content": job.request}, {"role": "assistant", "content": [call]}])
    conn.set("auditbot:job:20261125T000000-crash001:lock", "rq:dead-work-horse")
    claude.enqueue(text("Three buckets."))

    enqueue_request(conn, job.id)
    assert Job.fetch(queue(conn).job_ids[0], connection=conn).retries_left == 2, "crashed jobs are retried"
    drain(conn)

    assert jobs.load(job.id).status == "done"
    result = claude.requests[0]["body"]["messages"][-1]["content"][0]
    assert result["tool_use_id"] == "toolu_crash" and result["is_error"] is False
    assert json.loads(result["content"])["result"]["counts"]["s3_buckets"] >= 3
    texts = [c.args["text"] for c in slack.calls_to("chat.postMessage")]
    assert any("A worker stopped in the middle of this request" in t for t in texts)
    assert conn.get("auditbot:job:20261125T000000-crash001:lock") is None


def test_a_live_runner_keeps_its_lock(env, conn):
    from bot.jobs import run_request

    jobs = JobStore(conn)
    job = JobState(id="20261125T000000-busy0001", request="x", thread=ThreadRef("slack", "C1", "1.1", REQUESTER),
                   status="running")
    jobs.save(job)
    conn.set("auditbot:job:20261125T000000-busy0001:lock", "cancel:UOTHER")
    assert run_request(job.id) == "busy"
