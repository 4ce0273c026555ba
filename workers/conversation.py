"""The conversation port: everything a job does to a chat, whatever the surface.

The agent, toolsmith and evidence code know only this interface. Slack, Teams and the
terminal implement it in `bot/`; the terminal one doubles as the test fake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class ThreadRef:
    """Where a request lives: enough to rebuild a conversation in any worker.

    `surface` names the adapter ("slack", "teams", "terminal"); `data` holds the
    surface's own JSON-able reference (channel and thread ts, Teams conversation ...).
    """

    surface: str
    channel: str
    thread: str
    user: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"surface": self.surface, "channel": self.channel, "thread": self.thread,
                "user": self.user, "data": dict(self.data)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ThreadRef:
        return cls(raw["surface"], raw["channel"], raw["thread"], raw["user"], dict(raw.get("data") or {}))


@dataclass(frozen=True)
class MessageRef:
    """A posted message that can be updated in place."""

    id: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalRequest:
    """What an approval card shows; `token` is the opaque value of both buttons."""

    token: str
    tool: str
    version: int
    request_text: str
    requester: str
    change: str
    change_is_diff: bool
    findings: list[str]
    selftest: str
    source_path: Path | None = None
    note: str = ""


class Conversation(Protocol):
    """A chat thread as seen by a job."""

    ref: ThreadRef

    def post(self, text: str) -> MessageRef:
        """Post a message in the thread."""

    def status(self, text: str, *, final: bool = False) -> None:
        """Show the current step in one status line, kept current in place (coalesced)."""

    def upload(self, path: Path, *, title: str | None = None, comment: str | None = None) -> None:
        """Attach an evidence file to the thread."""

    def ask_approval(self, request: ApprovalRequest) -> MessageRef:
        """Post an approval card with Approve/Reject for the given version."""

    def show_decision(self, card: MessageRef, request: ApprovalRequest, decision: str, by: str) -> None:
        """Replace a card's buttons with the decision and who made it."""
