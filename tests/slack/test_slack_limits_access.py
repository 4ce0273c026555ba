"""Rate limits per user and per channel, and the optional allowlists: polite, private refusals."""

from __future__ import annotations

import time

import pytest

from tests.conftest import REQUESTER, wait_until
from tests.slack.helpers import direct_message, mention, queued, reply_text, views, web_with

pytestmark = pytest.mark.slow


def ephemerals(slack, user: str) -> list[str]:
    return [c.args["text"] for c in slack.calls_to("chat.postEphemeral") if c.args["user"] == user]


def test_requests_over_the_user_limit_get_a_polite_answer_and_queue_nothing(env, slack, conn):
    with web_with(env, AUDITBOT_USER_REQUESTS_PER_WINDOW="2") as web:
        for n in range(3):
            web.event(mention(f"List IAM users {n}", ts=f"1700001100.00010{n}"), event_id=f"EvR{n}")
            wait_until(lambda n=n: queued(conn) == min(n + 1, 2) and (n < 2 or ephemerals(slack, REQUESTER)))
        refusal = wait_until(lambda: ephemerals(slack, REQUESTER))[0]
        assert "You have sent 2 requests in the last 1 h 00 min" in refusal and "try again in about" in refusal
        wait_until(lambda: queued(conn) == 2)
        assert "the most I take from one person" in reply_text(web.command("Export the CloudTrail logs"))
        time.sleep(0.3)
        assert queued(conn) == 2 and len(slack.calls_to("chat.postMessage")) == 2, "no thread for a refused command"
        assert web.event(mention("again", ts="1700001100.000109"), event_id="EvR1").status_code == 200
        time.sleep(0.3)
        assert len(ephemerals(slack, REQUESTER)) == 1, "a redelivered event is neither counted nor answered twice"


def test_requests_over_the_channel_limit_are_refused_for_everyone_in_it(env, slack, conn):
    with web_with(env, AUDITBOT_CHANNEL_REQUESTS_PER_WINDOW="2") as web:
        for n, user in enumerate(("U1", "U2")):
            web.event(mention(f"List S3 buckets {n}", ts=f"1700001200.00010{n}", user=user), event_id=f"EvC{n}")
            wait_until(lambda n=n: queued(conn) == n + 1)
        web.event(mention("List S3 buckets", ts="1700001200.000102", user="U3"), event_id="EvC2")
        refusal = wait_until(lambda: ephemerals(slack, "U3"))[0]
        assert "This channel has sent 2 requests" in refusal
        web.event(mention("List S3 buckets", ts="1700001200.000200", channel="C2", user="U3"), event_id="EvC9")
        wait_until(lambda: queued(conn) == 3)


def test_allowlists_refuse_clearly_and_start_nothing(env, slack, conn):
    with web_with(env, AUDITBOT_ALLOWED_USERS=f"{REQUESTER},UAPPROVER", AUDITBOT_ALLOWED_CHANNELS="C1") as web:
        web.event(mention("List IAM users", ts="1700001300.000100", channel="C2"), event_id="EvA1")
        assert "isn't enabled in this channel" in wait_until(lambda: ephemerals(slack, REQUESTER))[0]
        web.event(mention("List IAM users", ts="1700001300.000200", user="UOTHER"), event_id="EvA2")
        assert "not on the list of people" in wait_until(lambda: ephemerals(slack, "UOTHER"))[0]
        assert "not on the list of people" in reply_text(web.command("tools", user="UOTHER"))
        assert "isn't enabled in this channel" in reply_text(web.command("status", channel="C2"))
        web.event({"type": "app_home_opened", "user": "UOTHER", "channel": "D9", "tab": "home"}, event_id="EvA3")
        wait_until(lambda: views(slack, "UOTHER"))
        assert "not on the list of people" in views(slack, "UOTHER")[0]["blocks"][1]["text"]["text"]
        assert queued(conn) == 0

        web.event(direct_message("List IAM users", ts="1700001300.000300"), event_id="EvA4")
        web.event(mention("List IAM users", ts="1700001300.000400"), event_id="EvA5")
        wait_until(lambda: queued(conn) == 2)
