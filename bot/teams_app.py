"""The Teams surface: `POST /api/messages`, where Teams delivers activities, and evidence downloads.

Every activity goes through the same fixed steps: parse; authenticate its JWT (401); check its
`serviceUrl` against `TEAMS_SERVICE_URL_HOSTS` (403, and no outbound call); dispatch.
- A message is answered 200 at once. The acknowledgement in the thread, the dedupe by activity id
  and the enqueue (`bot.intake.accept`, shared with Slack) run in a task of their own, as Bolt does
  for Slack, so Teams' 15-second limit is met whatever Redis or the Connector do. (A Starlette
  background task would hold the keep-alive connection, and so delay Teams' next request.)
- A card click (`adaptiveCard/action` invoke) is decided inline by the same `ApprovalDesk` as
  Slack's buttons, because the invoke response carries the card the clicker sees. The decided card
  is then PUT over the original message, for everyone, after the response.
Other activities (conversation updates, installs, reactions) need nothing and get 200.

The SDK's `App` is not used: it brings its own FastAPI server and routing, and also accepts
Entra-issued (Agent 365) tokens. Its activity models parse what arrives; its client sends.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from typing import Any

from microsoft_teams.api import ActivityTypeAdapter
from microsoft_teams.api.activities.utils.strip_mentions_text import StripMentionsTextOptions
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import teams_cards, teams_texts
from bot.intake import Intake, accept
from bot.rate_limits import RateLimiter
from bot.teams_auth import ActivityAuthenticator, KeySource, Unauthenticated
from bot.teams_connector import Address, Connector, ConnectorError, service_url_allowed
from bot.teams_conversation import address, text_message, thread_ref
from bot.teams_links import EvidenceLinks, LinkRefused
from bot.teams_tokens import bot_tokens
from workers.approvals import ApprovalDesk, Decision
from workers.settings import Settings, require

log = logging.getLogger(__name__)

CONVERSATION_TYPES = {"personal", "groupChat", "channel"}
OTHER_MENTION = re.compile(r"<at>(.*?)</at>", re.S)


def request_text(activity: Any) -> str:
    """The request as typed: the bot's @mention removed, other mentions as plain names."""
    activity.strip_mentions_text(StripMentionsTextOptions(account_id=activity.recipient.id))
    return html.unescape(OTHER_MENTION.sub(r"\1", activity.text or "")).replace("\xa0", " ").strip()


class TeamsEndpoint:
    """`POST /api/messages`: one authenticated activity at a time."""

    def __init__(self, settings: Settings, intake: Intake, desk: ApprovalDesk, auth: ActivityAuthenticator,
                 connector: Connector) -> None:
        self.hosts = settings.teams_service_url_hosts
        self.intake = intake
        self.desk = desk
        self.auth = auth
        self.connector = connector
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run after the response without holding the connection; failures are logged, never lost."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Teams follow-up failed", exc_info=task.exception())

    async def handle(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body is not an activity"}, status_code=400)
        try:
            await self.auth.verify(request.headers.get("authorization"), body.get("serviceUrl"), body.get("channelId"))
        except Unauthenticated as exc:
            log.warning("Teams activity refused: %s", exc)
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        if not service_url_allowed(body["serviceUrl"], self.hosts):
            log.warning("Teams activity refused: serviceUrl %r is not in TEAMS_SERVICE_URL_HOSTS", body["serviceUrl"])
            return JSONResponse({"error": "serviceUrl not allowed"}, status_code=403)
        if body.get("type") not in ("message", "invoke"):
            return Response(status_code=200)
        try:
            activity = ActivityTypeAdapter.validate_python(body)
        except ValidationError as exc:
            log.warning("malformed Teams activity: %s", exc.errors()[0].get("msg"))
            return JSONResponse({"error": "malformed activity"}, status_code=400)
        if activity.type == "message":
            self._spawn(self._message(activity))
            return Response(status_code=200)
        if getattr(activity, "name", None) == "adaptiveCard/action":
            return await self._card_action(activity)
        return Response(status_code=200)

    # --- messages ------------------------------------------------------------------------
    async def _say(self, target: Address, message: str) -> dict[str, Any]:
        try:
            return {"id": await self.connector.send(target, text_message(message)), "data": {}}
        except ConnectorError as exc:
            log.warning("Teams reply not sent: %s", exc)
            return {"id": "", "data": {}}

    async def _message(self, activity: Any) -> None:
        thread = thread_ref(activity)
        target = address(thread)
        kind = activity.conversation.conversation_type
        if kind not in CONVERSATION_TYPES:
            await self._say(target, teams_texts.unsupported_conversation(kind))
            return
        text = request_text(activity)
        if not text or text.lower() == "help":
            await self._say(target, teams_texts.empty_mention() if not text else teams_texts.HELP)
            return

        async def say(message: str) -> dict[str, Any]:
            return await self._say(target, message)

        async def edit(status: dict[str, Any], message: str) -> None:
            if status.get("id"):
                try:
                    await self.connector.update(target, status["id"], text_message(message))
                except ConnectorError as exc:
                    log.warning("Teams status not updated: %s", exc)

        await accept(self.intake, text, thread, f"{activity.conversation.id}/{activity.id}", say, edit,
                     asyncio.to_thread)

    # --- card clicks ---------------------------------------------------------------------
    async def _card_action(self, activity: Any) -> Response:
        action = activity.value.action
        data = action.data if isinstance(action.data, dict) else {}
        token = data.get("value")
        if action.verb not in (teams_cards.APPROVE, teams_cards.REJECT) or not isinstance(token, str):
            return JSONResponse(teams_cards.invoke_response(teams_cards.notice_card(teams_texts.unknown_action())))
        user = activity.from_.aad_object_id
        if not user:
            return JSONResponse(teams_cards.invoke_response(teams_cards.notice_card(teams_texts.unidentified_user())))
        decision = await asyncio.to_thread(self.desk.decide, token, user, approve=action.verb == teams_cards.APPROVE)
        if not decision.ok or decision.request is None:
            return JSONResponse(teams_cards.invoke_response(await self._refusal(token, decision)))
        by = activity.from_.name or user
        verb = "approved" if decision.approved else "rejected"
        decided = teams_cards.approval_card(decision.request, decision=verb, by=by)
        await asyncio.to_thread(self.intake.resume_if_parked, decision.job_id, decision.tool, decision.version)
        self._spawn(self._announce(activity, decision, decided, by, verb))
        return JSONResponse(teams_cards.invoke_response(decided))

    async def _refusal(self, token: str, decision: Decision) -> teams_cards.AdaptiveCard:
        """For the clicker alone: the card with why nothing changed (buttons only while still open)."""
        if decision.request is None:
            return teams_cards.notice_card(decision.message)
        still_open = await asyncio.to_thread(self.desk.is_open, token)
        return teams_cards.approval_card(decision.request, notice=decision.message, actions=still_open)

    async def _announce(self, activity: Any, decision: Decision, decided: teams_cards.AdaptiveCard, by: str,
                        verb: str) -> None:
        """Everyone sees the decided card (PUT over the clicked one) and a line in the thread."""
        target = Address(activity.service_url, activity.conversation.id, activity.reply_to_id)
        card_id = activity.reply_to_id or (decision.card or {}).get("id")
        try:
            if card_id:
                await self.connector.update(target, card_id, teams_cards.message(decided))
            await self.connector.send(target, text_message(teams_texts.decided(decision.tool, decision.version,
                                                                               verb, by)))
        except ConnectorError as exc:
            log.warning("decided card not shown to everyone: %s", exc)


def evidence_downloads(links: EvidenceLinks) -> Callable[[Request], Awaitable[Response]]:
    """`GET /evidence/<path>?expires=&sig=`: the file, or 403 for an altered or expired link."""

    async def download(request: Request) -> Response:
        try:
            path = links.resolve(request.path_params["path"], request.query_params.get("expires"),
                                 request.query_params.get("sig"))
        except LinkRefused as exc:
            log.warning("evidence link refused: %s", exc)
            return PlainTextResponse(teams_texts.link_refused(), status_code=403)
        if not path.is_file():
            return PlainTextResponse("Not found", status_code=404)
        return FileResponse(path, filename=path.name)

    return download


def teams_routes(settings: Settings, intake: Intake, desk: ApprovalDesk) -> list[Route]:
    """The routes `auditbot web` adds when `TEAMS_APP_ID` is set; requests count against the same rate limits."""
    require(settings, "TEAMS_APP_ID", "TEAMS_APP_PASSWORD")
    intake = replace(intake, limiter=RateLimiter.from_settings(intake.conn, settings))
    auth = ActivityAuthenticator(settings.teams_app_id, KeySource(settings.teams_openid_metadata_url))  # type: ignore[arg-type]
    connector = Connector(bot_tokens(settings), settings.teams_service_url_hosts)
    return [
        Route("/api/messages", TeamsEndpoint(settings, intake, desk, auth, connector).handle, methods=["POST"]),
        Route("/evidence/{path:path}", evidence_downloads(EvidenceLinks.from_settings(settings)), methods=["GET"]),
    ]
