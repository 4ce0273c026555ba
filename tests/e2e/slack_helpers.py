"""Reading approval cards off the Slack stand-in and clicking them through the real app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.queueing import queue
from tests.conftest import APPROVER, REQUESTER, drain, wait_until


@dataclass
class Card:
    channel: str
    ts: str
    thread_ts: str
    token: str
    header: str
    blocks: list


def cards(slack) -> list[Card]:
    found = []
    for call in slack.calls_to("chat.postMessage"):
        blocks = call.args.get("blocks") or []
        approve = [e for b in blocks if b.get("type") == "actions" for e in b["elements"]
                   if e.get("action_id") == "tool_approve"]
        if approve:
            found.append(Card(call.args["channel"], call.response["ts"], call.args.get("thread_ts"),
                              approve[0]["value"], blocks[0]["text"]["text"], blocks))
    return found


def ask(web, conn, text: str, *, event_id: str, ts: str, user: str = REQUESTER) -> None:
    """A mention in channel C1, run by a real RQ worker until it ends or parks."""
    web.event({"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts, "channel": "C1"},
              event_id=event_id)
    wait_until(lambda: queue(conn).count == 1)
    drain(conn)


def click(web, card: Card, *, approve: bool = True, user: str = APPROVER):
    reply = web.click("tool_approve" if approve else "tool_reject", card.token, user=user, channel=card.channel,
                      message_ts=card.ts, thread_ts=card.thread_ts)
    assert reply.status_code == 200
    return reply


def decide(web, conn, card: Card, *, approve: bool = True, user: str = APPROVER) -> None:
    """Click a card's button and run the job the decision resumes."""
    click(web, card, approve=approve, user=user)
    wait_until(lambda: queue(conn).count >= 1)
    drain(conn)


def refused(web, slack, card: Card, *, user: str, approve: bool = True) -> str:
    """Click as someone whose click must change nothing; returns the ephemeral refusal they saw."""
    before = len(slack.calls_to("chat.postEphemeral"))
    click(web, card, approve=approve, user=user)
    reply = wait_until(lambda: slack.calls_to("chat.postEphemeral")[before:])
    assert reply[0].args["user"] == user
    return reply[0].args["text"]


def tool_calls(claude) -> list[str]:
    """Names of every tool Claude called, in order, across all recorded requests' final assistant turns."""
    names: list[str] = []
    seen: set[str] = set()
    for request in claude.requests:
        for message in request["body"]["messages"]:
            if message["role"] != "assistant":
                continue
            for block in message["content"]:
                if block.get("type") == "tool_use" and block["id"] not in seen:
                    seen.add(block["id"])
                    names.append(block["name"])
    return names
