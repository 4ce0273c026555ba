"""Every user-facing text of the Teams surface, as small named functions (Teams Markdown)."""

from __future__ import annotations

HELP = """**auditbot** collects AWS audit evidence and links it here, with a signed-off trail.
Ask in plain words, in a chat with me, or by mentioning me in a channel or group chat:
- `Export CloudWatch log group prod-app-logs for the last 7 days to JSON`
- `List IAM users without MFA as CSV`
- `Screenshot the RDS instance prod-db configuration tab`

When no tool fits, I write one; an approver reviews the code with Approve/Reject before it runs.
Evidence files come as download links (valid for 24 hours) with their SHA-256."""


def empty_mention() -> str:
    return "You mentioned me without a request. " + HELP


def unsupported_conversation(kind: str | None) -> str:
    return (f"I can't work in this kind of conversation ({kind or 'unknown'}). Ask me in a personal chat, "
            "a group chat or a channel. Nothing was started.")


def unknown_action() -> str:
    return "This card action is not one I know; nothing was changed."


def unidentified_user() -> str:
    return "Teams did not tell me who you are (no Entra object id), so I can't take this decision. Nothing changed."


def decided(tool: str, version: int, verb: str, by: str) -> str:
    return f"{tool} v{version} {verb} by {by}."


def decided_line(decision: str, by: str) -> str:
    icon = {"approved": "✅", "rejected": "⛔"}.get(decision, "⌛")
    return f"{icon} **{decision.capitalize()}** by {by}"


def requested_by(user: str, request_text: str) -> str:
    return f"Requested by {user}: “{request_text}”"


def code_clipped(tool: str, version: int, hidden: int) -> str:
    return f"… {hidden:,} more characters: see the whole source with `auditbot tools show {tool} {version}`."


def long_answer(size: int) -> str:
    return f"The full answer ({size:,} characters) is too long for a Teams message; it is in the linked file."


def download() -> str:
    return "Download"


def link_refused() -> str:
    return "This evidence link has expired or was altered. Ask auditbot again for a fresh link."


def manifest_more(count: int) -> str:
    return f"… and {count} more files, listed with their SHA-256 in manifest.json."
