"""Adaptive Cards (schema 1.5) for the Teams surface, built with the Teams SDK's card models.

The approval card shows what Slack's shows: the change, the static checks, the selftest, and
Approve/Reject as `Action.Execute` with verbs `tool_approve` / `tool_reject` whose data carries the
same opaque token as Slack's buttons. Code goes in a `RichTextBlock` so Markdown never reformats it.
Evidence cards link the file (a signed URL) and show its size and SHA-256; small images are inline.

Teams refuses messages over about 28 KB, so the code shown is clipped (the CLI shows all of it).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from microsoft_teams.api import MessageActivityInput
from microsoft_teams.api.models.adaptive_card.adaptive_card_action_response import AdaptiveCardActionCardResponse
from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    ExecuteAction,
    Fact,
    FactSet,
    Image,
    OpenUrlAction,
    RichTextBlock,
    TeamsCardProperties,
    TextBlock,
    TextRun,
)

from bot import teams_texts
from workers.conversation import ApprovalRequest

CODE_LIMIT = 12_000
TEXT_LIMIT = 1_500
INLINE_IMAGE_LIMIT = 1_000_000
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
MANIFEST_ROWS = 30
APPROVE, REJECT = "tool_approve", "tool_reject"


def card(body: list[CardElement], actions: list[Any] | None = None) -> AdaptiveCard:
    return AdaptiveCard(version="1.5", body=body, actions=actions or None,
                        msteams=TeamsCardProperties(width="full"))


def text(value: str, **style: Any) -> TextBlock:
    return TextBlock(text=value, wrap=True, **style)


def clip(value: str, limit: int = TEXT_LIMIT) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def message(adaptive: AdaptiveCard, summary: str | None = None) -> MessageActivityInput:
    activity = MessageActivityInput().add_card(adaptive)
    if summary:
        activity.summary = summary
    return activity


def approval_card(request: ApprovalRequest, *, requester: str | None = None, decision: str | None = None,
                  by: str | None = None, notice: str | None = None, actions: bool = True) -> AdaptiveCard:
    """The card with buttons; once decided, without them and with who decided; `notice` for one clicker."""
    kind = "Change to" if request.change_is_diff else "New tool"
    code = request.change[:CODE_LIMIT]
    body: list[CardElement] = [
        text(f"{kind} {request.tool} v{request.version}", size="Large", weight="Bolder"),
        text(clip(teams_texts.requested_by(requester or request.requester, request.request_text)), is_subtle=True),
        *([text(clip(request.note), is_subtle=True)] if request.note else []),
        text("Diff against the running version" if request.change_is_diff else "Code", weight="Bolder"),
        RichTextBlock(inlines=[TextRun(text=code, font_type="Monospace", size="Small")]),
    ]
    if len(request.change) > CODE_LIMIT:
        body.append(text(teams_texts.code_clipped(request.tool, request.version, len(request.change) - CODE_LIMIT),
                         is_subtle=True))
    findings = "\n".join(f"- {clip(f, 300)}" for f in request.findings[:15]) or "none"
    body += [text("Static checks", weight="Bolder"), text(clip(findings)),
             text("Selftest (simulated AWS)", weight="Bolder"), text(clip(request.selftest))]
    if notice:
        body.append(text(notice, color="Attention", weight="Bolder"))
    if decision:
        body.append(text(teams_texts.decided_line(decision, by or "?"),
                         color="Good" if decision == "approved" else "Attention"))
    if decision or not actions:
        return card(body)
    data = {"value": request.token}
    return card(body, [ExecuteAction(title="Approve", verb=APPROVE, data=data, style="positive"),
                       ExecuteAction(title="Reject", verb=REJECT, data=data, style="destructive")])


def notice_card(value: str) -> AdaptiveCard:
    return card([text(value, color="Attention")])


def image_uri(path: Path) -> str | None:
    """A data URI for an image small enough to show inline."""
    kind = IMAGE_TYPES.get(path.suffix.lower())
    if kind is None or path.stat().st_size > INLINE_IMAGE_LIMIT:
        return None
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode()


def evidence_card(path: Path, url: str, sha256: str, *, title: str | None = None, comment: str | None = None,
                  inline: bool = True) -> AdaptiveCard:
    body: list[CardElement] = [text(title or path.name, weight="Bolder")]
    if comment:
        body.append(text(clip(comment)))
    body.append(FactSet(facts=[Fact(title="File", value=path.name),
                               Fact(title="Size", value=f"{path.stat().st_size:,} bytes"),
                               Fact(title="SHA-256", value=sha256)]))
    picture = image_uri(path) if inline else None
    if picture:
        body.append(Image(url=picture, alt_text=path.name))
    return card(body, [OpenUrlAction(title=teams_texts.download(), url=url)])


def _link_text(name: str, url: str) -> str:
    label = name.replace("[", "(").replace("]", ")")
    return f"[{label}]({url})"


def manifest_card(manifest: dict[str, Any], manifest_url: str, link_for: Callable[[str], str], *,
                  title: str | None = None, comment: str | None = None) -> AdaptiveCard:
    """Every file with its link and SHA-256, so a downloaded file can be checked against the manifest."""
    files = manifest.get("files", [])
    body: list[CardElement] = [text(title or "manifest.json", weight="Bolder")]
    if comment:
        body.append(text(clip(comment), is_subtle=True))
    for entry in files[:MANIFEST_ROWS]:
        body.append(text(f"{_link_text(entry['name'], link_for(entry['name']))} · {entry['size']:,} bytes  \n"
                         f"SHA-256 `{entry['sha256']}`", spacing="Small"))
    if len(files) > MANIFEST_ROWS:
        body.append(text(teams_texts.manifest_more(len(files) - MANIFEST_ROWS), is_subtle=True))
    return card(body, [OpenUrlAction(title=teams_texts.download() + " manifest.json", url=manifest_url)])


def long_answer_card(head: str, size: int, url: str) -> AdaptiveCard:
    return card([text(head), text(teams_texts.long_answer(size), is_subtle=True)],
                [OpenUrlAction(title=teams_texts.download(), url=url)])


def invoke_response(adaptive: AdaptiveCard) -> dict[str, Any]:
    """The body of an `adaptiveCard/action` answer: the card the clicker sees instead of the old one."""
    return AdaptiveCardActionCardResponse(value=adaptive).model_dump(by_alias=True, exclude_none=True)
