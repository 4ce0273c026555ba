"""The status message of a request: one message kept current in place, with a Cancel button.

The worker reports steps as short status texts (`Thinking (turn 2) ...`, `Running aws_export_data v1 ...`,
`aws_export_data: logs.filter_log_events: page 3, 1500 items`, `Writing code: ...`, `Testing ...`).
`ProgressTracker` reads them for the context line (tool, pages fetched) and picks the *key steps*
(running a tool, writing or testing code) that are also posted as thread replies: each step once, at most
`MAX_KEY_STEPS` per request, so the thread tells the story without flooding.

The Cancel button stays while the job can still be stopped: until a final status that is not a wait
(the worker's waits start with `:hourglass:`: waiting for an approver, or for Claude to come back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot import texts
from bot.slack_blocks import clip

CANCEL_ACTION = "job_cancel"
MAX_KEY_STEPS = 6
RUNNING = re.compile(r"^Running (?P<tool>[a-z0-9_]+) v(?P<version>\d+)")
KEY_STEP = re.compile(r"^(Running [a-z0-9_]+ v\d+|Writing code: \S+|Testing [a-z0-9_]+)")
PAGE = re.compile(r"^(?P<tool>[a-z0-9_]+): .*\bpage (?P<page>\d+)", re.IGNORECASE)
WAITING = ":hourglass:"


@dataclass
class ProgressTracker:
    """What the status texts so far say: the tool running, pages it fetched, key steps already posted."""

    tool: str | None = None
    pages: int = 0
    posted: list[str] = field(default_factory=list)

    def see(self, text: str) -> str | None:
        """Take in one status text; returns it when it is a key step to post in the thread."""
        running = RUNNING.match(text)
        if running:
            self.tool, self.pages = running["tool"], 0
        page = PAGE.match(text)
        if page and page["tool"] == self.tool:
            self.pages = max(self.pages, int(page["page"]))
        step = KEY_STEP.match(text)
        if step is None or step[0] in self.posted or len(self.posted) >= MAX_KEY_STEPS:
            return None
        self.posted.append(step[0])
        return step[0]


def cancellable(text: str, final: bool) -> bool:
    return not final or text.startswith(WAITING)


def status_blocks(text: str, *, job_id: str | None, elapsed: float | None, tool: str | None = None,
                  pages: int | None = None, can_cancel: bool = True) -> list[dict[str, Any]]:
    """The status line, a context line (job, elapsed time, tool, pages) and, while it helps, Cancel."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text or "…")}}]
    context = texts.status_context(job_id, elapsed, tool, pages)
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    if can_cancel and job_id:
        confirm = texts.confirm_cancel()
        blocks.append({"type": "actions", "block_id": "job_control", "elements": [{
            "type": "button", "action_id": CANCEL_ACTION, "style": "danger", "value": job_id,
            "text": {"type": "plain_text", "text": texts.cancel_button()},
            "confirm": {"title": {"type": "plain_text", "text": confirm["title"]},
                        "text": {"type": "mrkdwn", "text": confirm["text"]},
                        "confirm": {"type": "plain_text", "text": confirm["confirm"]},
                        "deny": {"type": "plain_text", "text": confirm["deny"]}, "style": "danger"}}]})
    return blocks


def key_step_blocks(step: str) -> list[dict[str, Any]]:
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": texts.key_step(step)}]}]
