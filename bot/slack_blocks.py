"""Block Kit for the Slack surface: approval cards and their decided form.

Slack limits a section's text to 3,000 characters and a message to 50 blocks; long diffs are cut
here with a note, and the whole source travels as an attached file.
"""

from __future__ import annotations

from typing import Any

from workers.conversation import ApprovalRequest

SECTION_LIMIT = 2900


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 60] + f"\n… ({len(text) - limit + 60} more characters)"


def _code(text: str, limit: int = SECTION_LIMIT) -> str:
    return "```" + _clip(text.replace("```", "ʼʼʼ"), limit - 6) + "```"


def card_blocks(request: ApprovalRequest, decision: str | None = None, by: str | None = None) -> list[dict[str, Any]]:
    """The card: what changed, for which request, what the checks found; buttons until decided."""
    kind = "Change to" if request.change_is_diff else "New tool"
    findings = "\n".join(f"• {_clip(f, 300)}" for f in request.findings[:15]) or "none"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{kind} {request.tool} v{request.version}"[:150]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(
            f"Requested by <@{request.requester}>: “{request.request_text}”", 1500)}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": ("*Diff against the running version*\n"
                                                                 if request.change_is_diff else "*Code*\n")
                                     + _code(request.change, 2800)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Static checks*\n{_clip(findings, 1900)}"},
            {"type": "mrkdwn", "text": f"*Selftest (simulated AWS)*\n{_clip(request.selftest, 1900)}"},
        ]},
    ]
    if decision is None:
        blocks.append({"type": "actions", "block_id": "tool_decision", "elements": [
            {"type": "button", "action_id": "tool_approve", "style": "primary", "value": request.token,
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "tool_reject", "style": "danger", "value": request.token,
             "text": {"type": "plain_text", "text": "Reject"}},
        ]})
    else:
        icon = ":white_check_mark:" if decision == "approved" else ":no_entry:"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                        "text": f"{icon} *{decision.capitalize()}* by {by}"}]})
    return blocks


def card_fallback(request: ApprovalRequest) -> str:
    return f"Approval needed: {request.tool} v{request.version}"
