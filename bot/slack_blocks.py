"""Block Kit for the Slack surface: approval cards and their decided form, and the small builders the
status line, answers, App Home and `/audit` replies share.

Slack limits a section's text to 3,000 characters and a message to 50 blocks; long diffs are cut
here with a note, and the whole source travels as an attached file.
"""

from __future__ import annotations

from typing import Any

from workers.conversation import ApprovalRequest

SECTION_LIMIT = 2900
HEADER_LIMIT = 150
CONTEXT_LIMIT = 2000
CODE_CHUNK = 2800
MAX_CODE_SECTIONS = 12  # with the other blocks, well under Slack's 50 per message


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """Text cut to `limit` characters with a note of how much was left out (Slack refuses longer fields)."""
    return text if len(text) <= limit else text[: limit - 60] + f"\n… ({len(text) - limit + 60} more characters)"


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:HEADER_LIMIT]}}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_LIMIT)}]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def pack_lines(lines: list[str], limit: int = SECTION_LIMIT) -> list[list[str]]:
    """Lines grouped so that each group, joined by newlines, fits one section (Slack: 3,000 characters)."""
    groups: list[list[str]] = []
    size = 0
    for line in (clip(line, limit) for line in lines):
        if groups and size + 1 + len(line) <= limit:
            groups[-1].append(line)
            size += 1 + len(line)
        else:
            groups.append([line])
            size = len(line)
    return groups


def code_sections(title: str, code: str) -> list[dict[str, Any]]:
    """The change in as many code sections as it needs, split at line ends, so the approver sees all of it."""
    chunks: list[str] = []
    current = ""
    for line in code.replace("```", "ʼʼʼ").splitlines(keepends=True):
        if current and len(current) + len(line) > CODE_CHUNK:
            chunks.append(current)
            current = ""
        current += line[:CODE_CHUNK]
    chunks.append(current)
    shown = chunks[:MAX_CODE_SECTIONS]
    sections = [{"type": "section", "text": {"type": "mrkdwn", "text": (f"*{title}*\n" if i == 0 else "")
                                             + "```" + chunk.rstrip("\n") + "```"}} for i, chunk in enumerate(shown)]
    if len(chunks) > len(shown):
        sections.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                         f"… {len(chunks) - len(shown)} more parts: read the attached source before deciding."}]})
    return sections


def card_blocks(request: ApprovalRequest, decision: str | None = None, by: str | None = None) -> list[dict[str, Any]]:
    """The card: what changed, for which request, what the checks found; buttons until decided."""
    kind = "Change to" if request.change_is_diff else "New tool"
    findings = "\n".join(f"• {clip(f, 300)}" for f in request.findings[:15]) or "none"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{kind} {request.tool} v{request.version}"[:150]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(
            f"Requested by <@{request.requester}>: “{request.request_text}”\n{request.note}", 1500)}]},
        *code_sections("Diff against the running version" if request.change_is_diff else "Code", request.change),
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Static checks*\n{clip(findings, 1900)}"},
            {"type": "mrkdwn", "text": f"*Selftest (simulated AWS)*\n{clip(request.selftest, 1900)}"},
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
