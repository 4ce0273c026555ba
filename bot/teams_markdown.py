"""Slack mrkdwn, as the shared texts are written, turned into the Markdown Teams renders.

The worker's texts (`workers/messages.py`, `bot/texts.py`) use Slack's `*bold*` and `:emoji:`
shortcodes. Teams reads `*x*` as italics and shows shortcodes literally, so the Teams adapter
converts: emphasis to `**bold**`, the shortcodes auditbot uses to Unicode, `<@U123>` to the bare id.
Code spans and blocks are left alone.
"""

from __future__ import annotations

import re

EMOJI = {
    "hourglass": "⏳", "white_check_mark": "✅", "warning": "⚠️", "x": "❌", "octagonal_sign": "🛑",
    "inbox_tray": "📥", "no_entry": "⛔", "page_facing_up": "📄", "lock": "🔒",
}
CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
SLACK_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def _prose(text: str) -> str:
    text = SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    text = BOLD.sub(r"**\1**", text)
    return SLACK_MENTION.sub(r"\1", text)


def teams_markdown(text: str) -> str:
    """Convert the prose between code spans; code stays byte for byte."""
    parts = CODE.split(text)
    return "".join(part if index % 2 else _prose(part) for index, part in enumerate(parts))
