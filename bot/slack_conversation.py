"""The conversation port over Slack's Web API, used by workers to talk in a request's thread."""

from __future__ import annotations

import re
import time
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack_blocks import card_blocks, card_fallback
from workers.conversation import ApprovalRequest, MessageRef, ThreadRef

STATUS_INTERVAL = 1.0
TEXT_LIMIT = 3500
SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def web_client(token: str, base_url: str) -> WebClient:
    """A WebClient that rides out Slack 429s, connection resets and 5xx answers."""
    return WebClient(token=token, base_url=base_url, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=3),
        RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=3),
    ])


def mention(user: str) -> str:
    return f"<@{user}>" if SLACK_USER_ID.match(user) else user


class SlackConversation:
    """A Slack thread; the status line is one message edited in place, at most about once a second."""

    def __init__(self, client: WebClient, ref: ThreadRef, status_ts: str | None = None) -> None:
        self.client = client
        self.ref = ref
        self.status_ts = status_ts
        self._last_update = 0.0
        self._held: str | None = None

    def post(self, text: str) -> MessageRef:
        if len(text) > TEXT_LIMIT:
            head = text[:TEXT_LIMIT] + "\n… (the full text is attached)"
            reply = self.client.chat_postMessage(channel=self.ref.channel, thread_ts=self.ref.thread, text=head)
            self.client.files_upload_v2(channel=self.ref.channel, thread_ts=self.ref.thread, content=text,
                                        filename="answer.txt", title="Full answer")
        else:
            reply = self.client.chat_postMessage(channel=self.ref.channel, thread_ts=self.ref.thread, text=text)
        return MessageRef(reply["ts"], {"channel": reply["channel"]})

    def status(self, text: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_update < STATUS_INTERVAL:
            self._held = text
            return
        self._held = None
        self._last_update = now
        if self.status_ts:
            self.client.chat_update(channel=self.ref.channel, ts=self.status_ts, text=text)
        else:
            self.status_ts = self.post(text).id

    def upload(self, path: Path, *, title: str | None = None, comment: str | None = None) -> None:
        self.client.files_upload_v2(channel=self.ref.channel, thread_ts=self.ref.thread, file=str(path),
                                    filename=path.name, title=title or path.name, initial_comment=comment)

    def ask_approval(self, request: ApprovalRequest) -> MessageRef:
        reply = self.client.chat_postMessage(channel=self.ref.channel, thread_ts=self.ref.thread,
                                             text=card_fallback(request), blocks=card_blocks(request))
        if request.source_path and request.source_path.exists():
            self.upload(request.source_path, title=f"{request.tool} v{request.version} (full source)")
        return MessageRef(reply["ts"], {"channel": reply["channel"]})

    def show_decision(self, card: MessageRef, request: ApprovalRequest, decision: str, by: str) -> None:
        self.client.chat_update(channel=card.data.get("channel", self.ref.channel), ts=card.id,
                                text=f"{request.tool} v{request.version} {decision} by {by}",
                                blocks=card_blocks(request, decision, mention(by)))
