"""The read-only `/audit` subcommands: help, tools, status [job], approvals, evidence [n] (and the form of cancel).

A command is a subcommand only when its words fit that subcommand's form (`status` alone or with a job
id, `evidence` alone or with a number, `tools`, `approvals` and `help` alone); anything else is a request,
so "/audit evidence of MFA for every IAM user" still reaches Claude. `cancel` always is the subcommand.
Replies are ephemeral: only the caller sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.slack_blocks import context, header, pack_lines, section
from bot.slack_queries import Lookups, age
from bot.slack_rows import approval_lines, evidence_lines, job_lines, thread_link, tool_lines
from workers.job_state import JobStore

JOB_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{8}$")
MAX_SECTIONS = 40  # with a header and a context line, under Slack's 50 blocks per message
DEFAULT_EVIDENCE, MAX_EVIDENCE = 5, 20
STATUS_JOBS = 10


@dataclass(frozen=True)
class Reply:
    """An ephemeral answer: the fallback text and its blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None


def subcommand(text: str) -> tuple[str, list[str]] | None:
    """(name, arguments) when the text is a subcommand, None when it is a request."""
    words = text.split()
    if not words:
        return "help", []
    name, args = words[0].lower(), words[1:]
    fits = {
        "help": not args,
        "tools": not args,
        "approvals": not args,
        "status": not args or (len(args) == 1 and bool(JOB_ID.match(args[0]))),
        "evidence": not args or (len(args) == 1 and args[0].isdigit()),
        "cancel": True,
    }
    return (name, args) if fits.get(name) else None


def _listing(title: str, lines: list[str], empty: str, note: str | None = None) -> Reply:
    blocks: list[dict[str, Any]] = [header(title)]
    groups = pack_lines(lines)[:MAX_SECTIONS] if lines else [[empty]]
    blocks += [section("\n".join(group)) for group in groups]
    hidden = len(lines) - sum(len(group) for group in groups) if lines else 0
    if hidden > 0:
        blocks.append(context(texts.more_rows(hidden, "the App Home")))
    if note:
        blocks.append(context(note))
    return Reply(title, blocks)


def tools(lookups: Lookups) -> Reply:
    rows = lookups.tools()
    return _listing(texts.tools_title(len(rows)), tool_lines(rows), texts.no_tools())


def approvals(lookups: Lookups, user: str, workspace: str | None) -> Reply:
    rows, everyone = lookups.approvals(user)
    return _listing(texts.approvals_title(len(rows)), approval_lines(rows, workspace), texts.no_approvals(),
                    None if everyone else texts.approvals_only_yours())


def status(lookups: Lookups, user: str, args: list[str], workspace: str | None) -> Reply:
    if not args:
        return _listing(texts.jobs_title(), job_lines(lookups.jobs_of(user, STATUS_JOBS), workspace), texts.no_jobs())
    job = lookups.job(args[0])
    if job is None or (user not in JobStore.requesters(job) and not lookups.is_approver(user)):
        return Reply(texts.unknown_job(args[0]))  # a request made in a DM stays private
    details = texts.job_details(job.id, job.status, job.request[:500], job.thread.user, age(job.created_at),
                                job.seconds_run(), job.turns, thread_link(job, workspace))
    return Reply(details, [section(details)])


def evidence(lookups: Lookups, args: list[str], workspace: str | None) -> Reply:
    count = int(args[0]) if args else DEFAULT_EVIDENCE
    if not 1 <= count <= MAX_EVIDENCE:
        return Reply(texts.evidence_usage())
    rows = lookups.recent_evidence(count)
    return _listing(texts.evidence_title(len(rows)), evidence_lines(rows, workspace), texts.no_evidence())


def answer(lookups: Lookups, name: str, args: list[str], user: str, workspace: str | None) -> Reply:
    """The reply to a read-only subcommand (`cancel` acts, so `bot.slack_cancel` answers it)."""
    if name == "tools":
        return tools(lookups)
    if name == "approvals":
        return approvals(lookups, user, workspace)
    if name == "status":
        return status(lookups, user, args, workspace)
    if name == "evidence":
        return evidence(lookups, args, workspace)
    return Reply(texts.HELP, [section(texts.HELP)])
