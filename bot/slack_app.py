"""The Slack surface: the Bolt app that hears requests and button clicks and answers at once.

Bolt verifies every request's signature and acks events before listeners run
(`process_before_response=False`), so Slack's 3-second limit is met whatever Redis or the
Web API do next. Listeners only validate, deduplicate, post a status line and enqueue.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import texts
from bot.intake import Intake, accept
from bot.slack_blocks import card_blocks
from bot.slack_conversation import mention
from workers.approvals import ApprovalDesk
from workers.conversation import ThreadRef
from workers.settings import Settings, require

MENTION = re.compile(r"<@[UW][A-Z0-9]+>")
SUBCOMMANDS = {"help"}


def async_web_client(settings: Settings) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),  # type: ignore[union-attr]
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=3),
                        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
                        AsyncServerErrorRetryHandler(max_retry_count=3)],
    )


def build_slack_app(settings: Settings, intake: Intake, desk: ApprovalDesk) -> AsyncApp:
    require(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    app = AsyncApp(
        client=async_web_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value(),  # type: ignore[union-attr]
        process_before_response=False,
    )

    async def start(client: AsyncWebClient, channel: str, thread_ts: str, user: str, text: str,
                    delivery_id: str | None) -> None:
        async def say(message: str) -> dict[str, Any]:
            reply = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message)
            return {"id": reply["ts"], "data": {"channel": reply["channel"]}}

        async def edit(status: dict[str, Any], message: str) -> None:
            await client.chat_update(channel=channel, ts=status["id"], text=message)

        thread = ThreadRef("slack", channel, thread_ts, user)
        await accept(intake, text, thread, delivery_id, say, edit, asyncio.to_thread)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("bot_id"):
            return
        text = MENTION.sub("", event.get("text", ""))
        await start(client, event["channel"], event.get("thread_ts") or event["ts"], event.get("user", ""),
                    text, body.get("event_id"))

    @app.event("message")
    async def on_message(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        await start(client, event["channel"], event.get("thread_ts") or event["ts"], event.get("user", ""),
                    MENTION.sub("", event.get("text", "")), body.get("event_id"))

    @app.command("/audit")
    async def on_audit(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        text = (command.get("text") or "").strip()
        words = text.split()
        if not words or words[0].lower() == "help":
            await ack(text=texts.HELP)
            return
        if len(words) == 1 and words[0].lower() not in SUBCOMMANDS:
            await ack(text=texts.unknown_subcommand(words[0]))
            return
        await ack()
        user, channel = command["user_id"], command["channel_id"]
        root = await client.chat_postMessage(channel=channel, text=f"<@{user}> asked via /audit: {text[:3000]}")
        await start(client, channel, root["ts"], user, text, None)

    async def decide(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                     approve: bool) -> None:
        await ack()
        user = body["user"]["id"]
        channel = body["channel"]["id"]
        message = body.get("message", {})
        thread_ts = message.get("thread_ts") or message.get("ts")
        decision = await asyncio.to_thread(desk.decide, action.get("value", ""), user, approve=approve)
        if not decision.ok:
            await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=decision.message)
            return
        verb = "approved" if approve else "rejected"
        if decision.request is not None:
            await client.chat_update(channel=channel, ts=message["ts"], text=decision.message,
                                     blocks=card_blocks(decision.request, verb, mention(user)))
        await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=f"{decision.message}")
        await asyncio.to_thread(intake.resume_if_parked, decision.job_id, decision.tool, decision.version)

    @app.action("tool_approve")
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                         client: AsyncWebClient) -> None:
        await decide(ack, body, action, client, approve=True)

    @app.action("tool_reject")
    async def on_reject(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                        client: AsyncWebClient) -> None:
        await decide(ack, body, action, client, approve=False)

    return app

