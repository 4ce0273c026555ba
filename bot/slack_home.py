"""The App Home tab: the tool catalog, pending approvals (approvers only), the user's requests, stale evidence.

Published with `views.publish` each time the user opens the tab. Slack allows 100 blocks in a Home view
and 3,000 characters per section; every part has a budget (`MAX_SECTIONS` sections of packed lines, at
most `MAX_ROWS` rows where a row is a request or a piece of evidence) and ends with a pointer to the
`/audit` command that lists the rest, so the view stays valid however large the library grows: at most
3 + 4 × (2 + `MAX_SECTIONS` + 1) = 47 blocks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot import texts
from bot.slack_blocks import context, divider, header, pack_lines, section
from bot.slack_queries import Lookups
from bot.slack_rows import approval_lines, evidence_lines, job_lines, tool_lines

MAX_SECTIONS = 8
MAX_ROWS = 10


def _part(title: str, lines: list[str], empty: str, command: str, hidden: int = 0) -> list[dict[str, Any]]:
    """A titled part: its lines packed into at most `MAX_SECTIONS` sections, then how many more `command` lists.
    `hidden` counts rows left out before packing."""
    blocks: list[dict[str, Any]] = [divider(), header(title)]
    if not lines:
        return [*blocks, section(empty)]
    groups = pack_lines(lines)[:MAX_SECTIONS]
    blocks += [section("\n".join(group)) for group in groups]
    hidden += len(lines) - sum(len(group) for group in groups)
    if hidden > 0:
        blocks.append(context(texts.more_rows(hidden, command)))
    return blocks


def home_view(lookups: Lookups, user: str, workspace: str | None) -> dict[str, Any]:
    """The whole Home view for `user`."""
    tools = lookups.tools()
    blocks: list[dict[str, Any]] = [
        header("auditbot"),
        section(texts.home_intro()),
        context(texts.home_updated(datetime.now(UTC).strftime("%Y-%m-%d %H:%M"))),
    ]
    blocks += _part(texts.tools_title(len(tools)), tool_lines(tools), texts.no_tools(), "/audit tools")
    if lookups.is_approver(user):
        approvals, _ = lookups.approvals(user)
        blocks += _part(texts.approvals_title(len(approvals)), approval_lines(approvals[:MAX_ROWS], workspace),
                        texts.no_approvals(), "/audit approvals", max(len(approvals) - MAX_ROWS, 0))
    jobs = lookups.jobs_of(user, MAX_ROWS)
    blocks += _part(texts.jobs_title(), job_lines(jobs, workspace), texts.no_jobs(), "/audit status")
    stale, total = lookups.stale_evidence(MAX_ROWS)
    blocks += _part(texts.stale_title(total), evidence_lines(stale, workspace), texts.no_stale(),
                    "/audit evidence 20", total - len(stale))
    return {"type": "home", "blocks": blocks}


def refusal_view(text: str) -> dict[str, Any]:
    """The Home tab of someone the allowlists leave out."""
    return {"type": "home", "blocks": [header("auditbot"), section(text)]}
