"""The worker's status message against the Web API stand-in: Cancel while it helps, key steps without flooding."""

from __future__ import annotations

import time

from bot.slack_conversation import SlackConversation, web_client
from bot.slack_progress import MAX_KEY_STEPS
from tests.conftest import BOT_TOKEN
from tests.slack.helpers import all_message_problems
from workers.conversation import ThreadRef


def conversation(slack) -> SlackConversation:
    ref = ThreadRef("slack", "C1", "1.1", "U1", {"job": "20240501T120000-abcdef12", "since": time.time() - 75})
    return SlackConversation(web_client(BOT_TOKEN, slack.base_url), ref)


def actions(call) -> list[str]:
    return [e["action_id"] for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"]]


def context(call) -> str:
    return " ".join(e["text"] for b in call.args["blocks"] if b["type"] == "context" for e in b["elements"])


def test_cancel_stays_while_the_job_runs_or_waits_and_goes_when_it_ends(slack):
    chat = conversation(slack)
    chat.status("Thinking (turn 1) ...")
    chat.status(":hourglass: Waiting for an approver to review *t* v2 (card above).", final=True)
    chat.status(":white_check_mark: Done: 1 evidence file, 2 Claude turn(s).", final=True)
    first, waiting, done = slack.calls_to("chat.postMessage")[0], *slack.calls_to("chat.update")
    assert actions(first) == actions(waiting) == ["job_cancel"] and actions(done) == []
    assert "Job `20240501T120000-abcdef12` · :stopwatch: 1 min 15 s" in context(first)
    assert all_message_problems(slack) == []


def test_key_steps_are_posted_once_each_and_at_most_six(slack):
    chat = conversation(slack)
    for n in range(10):
        chat.status(f"Running tool_{n} v1 ...", final=True)
        chat.status(f"tool_{n}: logs.filter_log_events: page {n + 3}, 50 items", final=True)
    chat.status("Running tool_0 v1 ...", final=True)
    chat.status("tool_0: logs.filter_log_events: page 7, 50 items", final=True)
    steps = [c.args["text"] for c in slack.calls_to("chat.postMessage") if c.args["text"].endswith(" v1")]
    assert steps == [f"Running tool_{n} v1" for n in range(MAX_KEY_STEPS)]
    assert "tool `tool_0` · 7 pages fetched" in context(slack.calls_to("chat.update")[-1])
