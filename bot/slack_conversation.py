"""The conversation port over Slack's Web API, used by workers to talk in a request's thread.

The status line is one message edited in place, at most about once a second, with the job's elapsed time,
the tool running, pages fetched and a Cancel button (`bot.slack_progress`); key steps also go to the
thread as small replies. Messages are Block Kit rendered from Claude's Markdown (`bot.slack_markdown`);
what does not fit a message is attached as a file. The thread reference carries the job id and the
request's start time (`ThreadRef.data`, stamped when the request was accepted).
"""

from __future__ import annotations

import time
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack_blocks import card_blocks, card_fallback
from bot.slack_markdown import render
from bot.slack_progress import ProgressTracker, cancellable, key_step_blocks, status_blocks
from bot.texts import who
from workers.conversation import ApprovalRequest, MessageRef, ThreadRef

STATUS_INTERVAL = 1.0


def web_client(token: str, base_url: str) -> WebClient:
    """A WebClient that rides out Slack 429s, connection resets and 5xx answers."""
    return WebClient(token=token, base_url=base_url, retry_handlers=[
        ConnectionErrorRetryHandler(max_retry_count=3),
        RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=3),
    ])


class SlackConversation:
    """A Slack thread; the status line is one message edited in place, at most about once a second."""

    def __init__(self, client: WebClient, ref: ThreadRef, status_ts: str | None = None) -> None:
        self.client = client
        self.ref = ref
        self.status_ts = status_ts
        self.progress = ProgressTracker()
        self._last_update = 0.0

    @property
    def job_id(self) -> str | None:
        return self.ref.data.get("job")

    def elapsed(self) -> float | None:
        since = self.ref.data.get("since")
        return time.time() - float(since) if since else None

    def post(self, text: str) -> MessageRef:
        message = render(text)
        reply = self.client.chat_postMessage(channel=self.ref.channel, thread_ts=self.ref.thread,
                                             text=message.fallback, blocks=message.blocks)
        for name, content in message.files:
            self.client.files_upload_v2(channel=self.ref.channel, thread_ts=self.ref.thread, content=content,
                                        filename=name, title=name)
        return MessageRef(reply["ts"], {"channel": reply["channel"]})

    def status(self, text: str, *, final: bool = False) -> None:
        step = self.progress.see(text)
        if step:
            self.client.chat_postMessage(channel=self.ref.channel, thread_ts=self.ref.thread, text=step,
                                         blocks=key_step_blocks(step))
        now = time.monotonic()
        if not final and now - self._last_update < STATUS_INTERVAL:
            return
        self._last_update = now
        blocks = status_blocks(text, job_id=self.job_id, elapsed=self.elapsed(), tool=self.progress.tool,
                               pages=self.progress.pages, can_cancel=cancellable(text, final))
        if self.status_ts:
            self.client.chat_update(channel=self.ref.channel, ts=self.status_ts, text=text, blocks=blocks)
        else:
            reply = self.client.chat_postMessage(channel=self.ref.channel, thread_ts=self.ref.thread, text=text,
                                                 blocks=blocks)
            self.status_ts = reply["ts"]

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
                                blocks=card_blocks(request, decision, who(by)))
