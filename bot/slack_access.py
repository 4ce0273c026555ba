"""Who may use auditbot in Slack: optional allowlists of users and channels.

`AUDITBOT_ALLOWED_USERS` and `AUDITBOT_ALLOWED_CHANNELS` are comma-separated Slack ids; an empty list
allows everyone. A direct message is governed by the user list alone: it is not a channel an admin
enables the bot in. Approve/Reject clicks are not gated here; `AUDITBOT_APPROVERS` governs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts
from workers.settings import Settings


def is_direct_message(channel: str) -> bool:
    """Slack's direct-message channel ids start with D."""
    return channel.startswith("D")


@dataclass(frozen=True)
class Access:
    users: frozenset[str]
    channels: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        return cls(frozenset(settings.auditbot_allowed_users), frozenset(settings.auditbot_allowed_channels))

    def refusal(self, user: str, channel: str | None) -> str | None:
        """None when `user` may use the bot in `channel` (None: not in a channel, e.g. the App Home)."""
        if self.users and user not in self.users:
            return texts.user_not_allowed()
        if self.channels and channel and not is_direct_message(channel) and channel not in self.channels:
            return texts.channel_not_allowed()
        return None
