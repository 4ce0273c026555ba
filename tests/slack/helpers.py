"""Driving the real Slack app the way Slack does, and reading what reached the Web API stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.queueing import queue
from bot.services import redis_connection
from bot.slack_conversation import SlackConversation, web_client
from tests.conftest import BOT_TOKEN, REQUESTER, WebApp, drain, wait_until
from tests.slack.blockkit import message_problems
from workers.approvals import ApprovalDesk
from workers.conversation import ThreadRef
from workers.evidence import JobEvidence
from workers.job_state import JobState, JobStore
from workers.registry import Registry
from workers.settings import load_settings

JOB_CANCEL = "job_cancel"


def mention(text: str, *, ts: str, channel: str = "C1", user: str = REQUESTER,
            thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@UBOT> {text}", "ts": ts, "channel": channel}
    return {**event, "thread_ts": thread_ts} if thread_ts else event


def direct_message(text: str, *, ts: str, channel: str = "D1", user: str = REQUESTER,
                   thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "message", "channel_type": "im", "channel": channel, "user": user, "ts": ts, "text": text}
    return {**event, "thread_ts": thread_ts} if thread_ts else event


def queued(conn) -> int:
    return queue(conn).count


def ask(web: WebApp, conn, text: str, *, event_id: str, ts: str, run: bool = True, **where: Any) -> None:
    """A mention, queued by the real app and (with `run`) worked off by a real RQ worker."""
    before = queued(conn)
    assert web.event(mention(text, ts=ts, **where), event_id=event_id).status_code == 200
    wait_until(lambda: queued(conn) == before + 1)
    if run:
        drain(conn)


def reply_of(response) -> dict[str, Any]:
    """The body of a slash command's ack: what the caller alone sees."""
    assert response.status_code == 200, response.text
    if not response.content:
        return {}
    body = response.json() if response.headers["content-type"].startswith("application/json") else {
        "text": response.text}
    assert body.get("response_type", "ephemeral") == "ephemeral", body
    assert not message_problems(body), message_problems(body)
    return body


def reply_text(response) -> str:
    """The visible text of an ack: its blocks' texts, or its text."""
    body = reply_of(response)
    parts = []
    for block in body.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text["text"])
        parts += [e.get("text", "") for e in block.get("elements") or []]
    return "\n".join(parts) or body.get("text", "")


def status_posts(slack) -> list:
    """Status messages: those with a Cancel button when posted."""
    return [c for c in slack.calls_to("chat.postMessage") if any(
        e.get("action_id") == JOB_CANCEL for b in c.args.get("blocks") or [] for e in b.get("elements") or [])]


def cancel_value(call) -> str:
    return next(e["value"] for b in call.args["blocks"] for e in b.get("elements") or []
                if e.get("action_id") == JOB_CANCEL)


def thread_texts(slack, channel: str, thread_ts: str) -> list[str]:
    """Texts posted in a thread (fallback texts and section texts), in order."""
    found = []
    for call in slack.calls_to("chat.postMessage"):
        if call.args.get("channel") == channel and call.args.get("thread_ts") == thread_ts:
            found.append(call.args.get("text", ""))
            found += [b["text"]["text"] for b in call.args.get("blocks") or [] if b.get("type") == "section"]
    return found


def all_message_problems(slack) -> list[str]:
    return [p for method in ("chat.postMessage", "chat.update") for c in slack.calls_to(method)
            for p in message_problems(c.args)]


@contextmanager
def web_with(env: dict[str, str], **overrides: str) -> Iterator[WebApp]:
    """`auditbot web` with some settings changed (allowlists, limits)."""
    app = WebApp({**env, **overrides})
    try:
        yield app
    finally:
        app.stop()


def register_tool(name: str, source: str, approver: str) -> None:
    """An approved tool in the registry, as an approval or `auditbot tools import` leaves it."""
    settings = load_settings()
    Registry(redis_connection(settings), settings.auditbot_data_dir).add_version(
        name, source, parent=None, note="test tool", approver=approver)


def views(slack, user: str) -> list[dict[str, Any]]:
    """Home views published for `user` (refused calls left out)."""
    return [c.args["view"] for c in slack.calls_to("views.publish")
            if c.args.get("user_id") == user and c.status == 200]


def section_texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] if b.get("type") in ("section", "header") else
                     " ".join(e.get("text", "") for e in b.get("elements") or []) for b in blocks
                     if b.get("type") in ("section", "header", "context"))


def open_card(conn, slack, tool: str, source: str, *, job_id: str, thread_ts: str, requester: str = REQUESTER) -> None:
    """A pending version of `tool` with its approval card posted in `thread_ts`, as the agent leaves it."""
    settings = load_settings()
    tools = Registry(redis_connection(settings), settings.auditbot_data_dir)
    job = JobState(id=job_id, request=f"{tool} please", thread=ThreadRef("slack", "C1", thread_ts, requester))
    JobStore(conn).save(job)
    version = tools.add_version(tool, source, parent=None, requested_by={"job_id": job.id},
                                checks={"findings": [], "blocking": False})
    chat = SlackConversation(web_client(BOT_TOKEN, slack.base_url), job.thread)
    ApprovalDesk(conn, tools, settings).open(job, version, chat, tools.materialise(version))


def old_evidence(root, job_id: str, tool: str, when, request: str, scratch) -> None:
    """A job folder whose evidence was collected at `when`, written by the real evidence store."""
    evidence = JobEvidence.open(root, job_id, when, 1, header={"job": job_id, "request": {"text": request}})
    produced = scratch / f"{job_id}.json"
    produced.write_text('{"items": []}')
    evidence.add_run({"tool": tool, "version": 1, "params": {}, "started": when.isoformat(),
                      "ended": when.isoformat(), "api_calls": []}, [produced])
    evidence.finish()
