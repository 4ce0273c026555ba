"""Links to messages in this Slack workspace, for the App Home and `/audit` replies.

A permalink is `<workspace URL>archives/<channel>/p<ts without the dot>`, with `thread_ts` and `cid` for a
reply in a thread; the workspace URL comes from `auth.test`, asked once per process. Building the link
saves a `chat.getPermalink` call per row (a Home tab lists dozens).
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


def message_link(workspace_url: str, channel: str, ts: str, thread_ts: str | None = None) -> str:
    link = f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link


class Permalinks:
    """The workspace URL, looked up on first use; without it, replies simply carry no links."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._url: str | None = None

    async def workspace_url(self) -> str | None:
        if self._url is None:
            try:
                self._url = (await self._client.auth_test()).get("url") or None
            except SlackApiError as exc:
                log.warning("auth.test failed; replies go without links: %s", exc.response.get("error"))
        return self._url
