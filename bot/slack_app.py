"""The Slack surface: the Bolt app that hears requests, commands, clicks and Home-tab visits.

Bolt verifies every request's signature and acks events before listeners run
(`process_before_response=False`), so Slack's 3-second limit is met whatever Redis or the
Web API do next. Listeners check access (`bot.slack_access`), then validate, deduplicate,
rate-limit, post a status message and enqueue (`bot.intake`). Slash-command answers are computed
before the ack and sent with it (ephemeral); the Home tab is published on every visit.

| listener | does |
| --- | --- |
| `app_mention`, `message` (DM) | a new request, or a follow-up in a thread whose first request became a job |
| `app_home_opened` | publishes the Home tab (`bot.slack_home`) |
| `/audit` | `help`, `tools`, `status [job]`, `cancel <job>`, `approvals`, `evidence [n]`, or a request |
| `tool_approve`, `tool_reject` | an approval decision (approvers only) |
| `job_cancel` | the Cancel button of a status message |
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from typing import Any

import redis
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import texts
from bot.intake import Intake, accept
from bot.rate_limits import RateLimiter
from bot.slack_access import Access
from bot.slack_blocks import card_blocks
from bot.slack_cancel import cancel, tell_thread
from bot.slack_commands import JOB_ID, answer, subcommand
from bot.slack_home import home_view, refusal_view
from bot.slack_links import Permalinks
from bot.slack_markdown import escape
from bot.slack_progress import CANCEL_ACTION, status_blocks
from bot.slack_queries import Lookups
from workers.approvals import ApprovalDesk
from workers.conversation import ThreadRef
from workers.job_state import JobState
from workers.settings import Settings, require

MENTION = re.compile(r"<@[UW][A-Z0-9]+>")


def async_web_client(settings: Settings) -> AsyncWebClient:
    """The app's client; the SDK's retry handlers ride out 429s (honouring Retry-After), resets and 5xx."""
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),  # type: ignore[union-attr]
        base_url=settings.slack_api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=3),
                        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
                        AsyncServerErrorRetryHandler(max_retry_count=3)],
    )


def build_slack_app(settings: Settings, intake: Intake, desk: ApprovalDesk) -> AsyncApp:
    require(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    intake = replace(intake, limiter=RateLimiter.from_settings(intake.conn, settings))
    access = Access.from_settings(settings)
    lookups = Lookups(settings, intake, desk)
    app = AsyncApp(
        client=async_web_client(settings),
        signing_secret=settings.slack_signing_secret.get_secret_value(),  # type: ignore[union-attr]
        process_before_response=False,
    )
    links = Permalinks(app.client)

    async def start(client: AsyncWebClient, channel: str, thread_ts: str, user: str, text: str,
                    delivery_id: str | None, *, counted: bool = False) -> None:
        async def say(message: str) -> dict[str, Any]:
            reply = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message)
            return {"id": reply["ts"], "data": {"channel": reply["channel"]}}

        async def refuse(message: str) -> dict[str, Any]:
            await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=message)
            return {}

        async def announce(job: JobState, message: str) -> dict[str, Any]:
            job.thread = replace(job.thread, data={**job.thread.data, "job": job.id, "since": time.time()})
            reply = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=message,
                                                  blocks=status_blocks(message, job_id=job.id, elapsed=None))
            return {"id": reply["ts"], "data": {"channel": reply["channel"]}}

        async def edit(status: dict[str, Any], message: str) -> None:
            await client.chat_update(channel=channel, ts=status["id"], text=message,
                                     blocks=status_blocks(message, job_id=None, elapsed=None, can_cancel=False))

        thread = ThreadRef("slack", channel, thread_ts, user)
        await accept(intake, text, thread, delivery_id, say, edit, asyncio.to_thread, announce=announce,
                     refuse=refuse, counted=counted, follow_ups=True)

    async def allowed(client: AsyncWebClient, channel: str, user: str, thread_ts: str | None) -> bool:
        refusal = access.refusal(user, channel)
        if refusal:
            await client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=refusal)
        return refusal is None

    async def request_event(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        """A mention or DM: a new request in its own thread, or a follow-up in the thread it was sent in."""
        channel, user, thread_ts = event["channel"], event.get("user", ""), event.get("thread_ts") or event["ts"]
        if await allowed(client, channel, user, thread_ts):
            await start(client, channel, thread_ts, user, MENTION.sub("", event.get("text", "")),
                        body.get("event_id"))

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if not event.get("bot_id"):
            await request_event(event, body, client)

    @app.event("message")
    async def on_message(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") == "im" and not event.get("bot_id") and not event.get("subtype"):
            await request_event(event, body, client)

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        refusal = access.refusal(user, None)
        try:
            view = refusal_view(refusal) if refusal else await asyncio.to_thread(
                home_view, lookups, user, await links.workspace_url())
        except redis.RedisError:
            view = refusal_view(texts.records_unavailable())
        await client.views_publish(user_id=user, view=view)

    @app.command("/audit")
    async def on_audit(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any], client: AsyncWebClient,
                       ) -> None:
        text = (command.get("text") or "").strip()
        user, channel = command["user_id"], command["channel_id"]
        parsed = subcommand(text)
        if parsed and parsed[0] == "help":
            await ack(text=texts.HELP)
            return
        refusal = access.refusal(user, channel)
        if refusal:
            await ack(text=refusal)
            return
        if parsed:
            try:
                await subcommand_reply(ack, client, *parsed, user)
            except redis.RedisError:
                await ack(text=texts.records_unavailable())
            return
        if len(text.split()) == 1:
            await ack(text=texts.unknown_subcommand(text.split()[0]))
            return
        await request_from_command(ack, respond, client, channel, user, text)

    async def subcommand_reply(ack: AsyncAck, client: AsyncWebClient, name: str, args: list[str], user: str) -> None:
        if name != "cancel":
            reply = await asyncio.to_thread(answer, lookups, name, args, user, await links.workspace_url())
            await ack(text=reply.text, blocks=reply.blocks)
        elif len(args) != 1 or not JOB_ID.match(args[0]):
            await ack(text=texts.cancel_usage())
        else:
            text, stopped = await cancel(lookups, args[0], user)
            await ack(text=text)
            if stopped is not None:
                await tell_thread(client, stopped, user)

    async def request_from_command(ack: AsyncAck, respond: AsyncRespond, client: AsyncWebClient, channel: str,
                                   user: str, text: str) -> None:
        """Admit first (a refused request opens no thread), then open a thread for it and queue it there.
        In a channel the bot is not in, only the command's response URL reaches the user."""
        try:
            refusal = await asyncio.to_thread(intake.admit, "slack", user, channel)
        except redis.RedisError:
            await ack(text=texts.cannot_queue())
            return
        if refusal:
            await ack(text=refusal)
            return
        await ack()
        try:
            root = await client.chat_postMessage(channel=channel,
                                                 text=texts.asked_via_command(user, escape(text[:3000])))
        except SlackApiError as exc:
            await respond(text=texts.cannot_post_here(str(exc.response.get("error"))))
            return
        await start(client, channel, root["ts"], user, text, None, counted=True)

    @app.action(CANCEL_ACTION)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user, channel = body["user"]["id"], body["channel"]["id"]
        message = body.get("message", {})
        try:
            reply, stopped = await cancel(lookups, action.get("value", ""), user)
        except redis.RedisError:
            reply, stopped = texts.records_unavailable(), None
        if stopped is not None:
            await tell_thread(client, stopped, user)
        await client.chat_postEphemeral(channel=channel, user=user, thread_ts=message.get("thread_ts") or
                                        message.get("ts"), text=reply)

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
                                     blocks=card_blocks(decision.request, verb, texts.who(user)))
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
