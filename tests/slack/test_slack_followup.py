"""A follow-up in a request's thread continues its Claude conversation; a new message starts a new one."""

from __future__ import annotations

import pytest

from tests.conftest import REQUESTER, drain, wait_until
from tests.slack.helpers import ask, direct_message, queued, status_posts, thread_texts
from workers.job_state import JobStore, unfinished_call_result, with_follow_up
from workers.scripted_claude import text

pytestmark = pytest.mark.slow
ROOT = "1700000500.000100"


def conversation(request: dict) -> list[tuple[str, str]]:
    """(role, text) of every message Claude was sent, tool blocks left out."""
    found = []
    for message in request["body"]["messages"]:
        content = message["content"]
        texts = [content] if isinstance(content, str) else [b["text"] for b in content if b.get("type") == "text"]
        found.append((message["role"], " ".join(texts)))
    return found


def test_follow_up_in_the_thread_continues_the_conversation(web, slack, claude, conn, env):
    claude.enqueue(text("There are 3 IAM users without MFA."), text("Here they are as PDF."),
                   text("A fresh start."))
    ask(web, conn, "List IAM users without MFA", event_id="EvF1", ts=ROOT)
    first = status_posts(slack)[0]

    ask(web, conn, "now as PDF", event_id="EvF2", ts="1700000500.000200", thread_ts=ROOT)
    again = status_posts(slack)[1]
    assert again.args["thread_ts"] == ROOT and "Going on with this conversation" in again.args["text"]
    assert [b["elements"][0]["value"] for b in again.args["blocks"] if b["type"] == "actions"] == [
        b["elements"][0]["value"] for b in first.args["blocks"] if b["type"] == "actions"], "same job"
    assert conversation(claude.requests[1]) == [
        ("user", "List IAM users without MFA"), ("assistant", "There are 3 IAM users without MFA."),
        ("user", "now as PDF")]
    assert "Here they are as PDF." in thread_texts(slack, "C1", ROOT)

    ask(web, conn, "List S3 buckets", event_id="EvF3", ts="1700000600.000100")
    assert conversation(claude.requests[2]) == [("user", "List S3 buckets")]
    jobs = conn.zrange(f"auditbot:user:slack:{REQUESTER}:jobs", 0, -1)
    assert len(jobs) == 2
    job = JobStore(conn).load(status_posts(slack)[0].args["blocks"][-1]["elements"][0]["value"])
    assert job.followups[0]["text"] == "now as PDF" and job.followups[0]["previous"]["turns"] == 1


def test_follow_up_while_the_first_is_still_queued_is_told_to_wait(web, slack, claude, conn):
    ask(web, conn, "List IAM users", event_id="EvW1", ts=ROOT, run=False)
    web.event({"type": "app_mention", "user": REQUESTER, "text": "<@UBOT> only the last 24 hours",
               "ts": "1700000500.000300", "thread_ts": ROOT, "channel": "C1"}, event_id="EvW2")
    wait_until(lambda: any("still on the previous request" in t for t in thread_texts(slack, "C1", ROOT)))
    assert queued(conn) == 1


def test_direct_message_thread_reply_is_a_follow_up(web, slack, claude, conn):
    claude.enqueue(text("First answer."), text("Second answer."))
    web.event(direct_message("List IAM users", ts="1700000700.000100"), event_id="EvD1")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    web.event(direct_message("only admins", ts="1700000700.000200", thread_ts="1700000700.000100"),
              event_id="EvD2")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    assert conversation(claude.requests[1])[-1] == ("user", "only admins")
    assert len(conversation(claude.requests[1])) == 3


def test_history_stays_valid_after_a_request_that_ended_between_a_call_and_its_result():
    call = {"type": "tool_use", "id": "toolu_1", "name": "slow_probe", "input": {}}
    history = [{"role": "user", "content": "Probe"}, {"role": "assistant", "content": [call]}]
    continued = with_follow_up(history, "try again")
    assert continued[-1] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": unfinished_call_result(), "is_error": True},
        {"type": "text", "text": "try again"}]}
    ended_on_results = [*history, {"role": "user", "content": [continued[-1]["content"][0]]}]
    merged = with_follow_up(ended_on_results, "and now?")
    assert len(merged) == 3 and merged[-1]["content"][-1] == {"type": "text", "text": "and now?"}
    assert history[-1]["content"] == [call], "the stored history is not changed in place"
