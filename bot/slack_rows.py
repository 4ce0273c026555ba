"""Tools, approvals, requests and evidence as mrkdwn lines with links, shared by the App Home and `/audit`."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot import texts
from bot.slack_links import message_link
from bot.slack_markdown import escape
from bot.slack_queries import ApprovalRow, EvidenceRow, ToolRow, age
from workers.job_state import JobState


def _when(epoch: float | None) -> str:
    return f"{texts.duration(time.time() - epoch)} ago" if epoch else texts.never()


def tool_lines(rows: list[ToolRow]) -> list[str]:
    return [texts.tool_line(r.name, r.version, texts.who(r.approver), _when(r.last_used), r.pending, r.retired)
            for r in rows]


def approval_lines(rows: list[ApprovalRow], workspace: str | None) -> list[str]:
    lines = []
    for row in rows:
        link = (message_link(workspace, row.card_channel, row.card_ts, row.thread_ts)
                if workspace and row.surface == "slack" and row.card_channel and row.card_ts else None)
        lines.append(texts.approval_line(row.tool, row.version, row.requester, row.expires - time.time(), link))
    return lines


def thread_link(job: JobState | None, workspace: str | None) -> str | None:
    if job is None or workspace is None or job.thread.surface != "slack":
        return None
    return message_link(workspace, job.thread.channel, job.thread.thread)


def job_lines(jobs: list[JobState], workspace: str | None) -> list[str]:
    return [texts.job_line(j.id, j.status, _quote(j.followups[-1]["text"] if j.followups else j.request),
                           age(j.created_at), thread_link(j, workspace)) for j in jobs]


def evidence_lines(rows: list[EvidenceRow], workspace: str | None) -> list[str]:
    today = datetime.now(UTC).date()
    return [texts.evidence_line(r.entry.job, r.entry.collected.isoformat(), r.entry.tools, r.entry.files,
                                r.entry.renew_by.isoformat(), r.entry.status(today), thread_link(r.job, workspace),
                                "/".join(r.entry.folder.parts[-3:])) for r in rows]


def _quote(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")
