"""The worker's Slack conversation against the Web API stand-in: coalescing, retries, long text."""

from __future__ import annotations

from bot.slack_conversation import SlackConversation, web_client
from tests.conftest import BOT_TOKEN
from workers.conversation import ThreadRef


def conversation(slack) -> SlackConversation:
    return SlackConversation(web_client(BOT_TOKEN, slack.base_url), ThreadRef("slack", "C1", "1.1", "U1"))


def test_status_updates_are_coalesced_to_about_one_per_second(slack):
    chat = conversation(slack)
    for n in range(20):
        chat.status(f"page {n}")
    chat.status("Done", final=True)
    updates = slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")
    assert [c.args["text"] for c in updates] == ["page 0", "Done"]
    assert slack.calls_to("chat.update")[0].args["ts"] == slack.calls_to("chat.postMessage")[0].response["ts"]


def test_slack_429_is_retried_by_the_sdk(slack):
    slack.fail_next("chat.postMessage", retry_after=1)
    conversation(slack).post("hello")
    calls = slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]


def test_long_text_is_cut_and_attached_whole(slack):
    text = "row\n" * 2000
    conversation(slack).post(text)
    assert len(slack.calls_to("chat.postMessage")[0].args["text"]) < 4000
    assert slack.uploaded_files()[0]["content"].decode() == text
