"""The conversation port over the Bot Connector: how a worker talks in a Teams thread.

The reference kept with the job is a `ThreadRef` whose `channel` is the Teams conversation id (for a
channel, it names the thread), `thread` the thread's root activity, `user` the requester's Entra
object id, and `data` the Connector's `service_url`, the `tenant_id`, the `conversation_type`, the
requester's `user_name` and `reply_to`, the activity that asked.

Everything goes into the thread as replies: the status line is one activity updated in place (PUT,
at most about once a second, with a typing indicator while work goes on), evidence files are cards
with signed download links, and an answer too long for a Teams message becomes a linked text file.
A message the Connector will not take even after retries goes to the outbox, not into the void.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from microsoft_teams.api import MessageActivityInput

from bot import teams_cards
from bot.services import redis_connection
from bot.teams_connector import Address, BlockingConnector, ConnectorError
from bot.teams_links import EvidenceLinks
from bot.teams_markdown import teams_markdown
from bot.teams_outbox import Outbox
from bot.teams_tokens import bot_tokens
from workers.conversation import ApprovalRequest, MessageRef, ThreadRef
from workers.evidence import MANIFEST, file_digest
from workers.settings import Settings

log = logging.getLogger(__name__)

STATUS_INTERVAL = 1.0
TYPING_INTERVAL = 3.0
TEXT_LIMIT = 20_000
HEAD_CHARS = 1_000


def thread_ref(activity: Any) -> ThreadRef:
    """The reference a Teams request is kept under, from its (authenticated) activity."""
    conversation = activity.conversation
    root = conversation.id.partition(";messageid=")[2] or activity.id
    return ThreadRef("teams", conversation.id, root, activity.from_.aad_object_id or activity.from_.id, {
        "service_url": activity.service_url, "tenant_id": conversation.tenant_id,
        "conversation_type": conversation.conversation_type, "user_name": activity.from_.name or "",
        "reply_to": activity.id,
    })


def address(ref: ThreadRef) -> Address:
    return Address(ref.data["service_url"], ref.channel, ref.data.get("reply_to"))


def teams_conversation(job_id: str, ref: ThreadRef, status_id: str | None, settings: Settings) -> TeamsConversation:
    """The conversation a worker uses for a Teams job; long answers go next to the evidence."""
    return TeamsConversation(BlockingConnector(bot_tokens(settings), settings.teams_service_url_hosts), ref,
                             status_id or None, EvidenceLinks.from_settings(settings),
                             Outbox(redis_connection(settings)), settings.auditbot_evidence_dir / "answers" / job_id)


def text_message(text: str) -> MessageActivityInput:
    return MessageActivityInput(text=teams_markdown(text))


class TeamsConversation:
    """A Teams thread as seen by a job."""

    def __init__(self, connector: BlockingConnector, ref: ThreadRef, status_id: str | None, links: EvidenceLinks,
                 outbox: Outbox, answers_dir: Path) -> None:
        self.connector = connector
        self.ref = ref
        self.address = address(ref)
        self.status_id = status_id
        self.links = links
        self.outbox = outbox
        self.answers_dir = answers_dir
        self._last_update = 0.0
        self._last_typing = 0.0

    def _send(self, activity: MessageActivityInput) -> str:
        """Post; a Connector that stays unavailable gets the message through the outbox later."""
        try:
            return self.connector.send(self.address, activity)
        except ConnectorError as exc:
            if not exc.retryable:
                raise
            self.outbox.defer(self.address, activity)
            return ""

    def _typing(self) -> None:
        try:
            self.connector.typing(self.address)
        except ConnectorError as exc:
            log.info("typing indicator not sent: %s", exc)

    def post(self, text: str) -> MessageRef:
        if len(text.encode()) <= TEXT_LIMIT:
            return MessageRef(self._send(text_message(text)))
        self.answers_dir.mkdir(parents=True, exist_ok=True)
        path = self.answers_dir / f"answer-{len(list(self.answers_dir.glob('answer-*.txt'))) + 1}.txt"
        path.write_text(text, encoding="utf-8")
        head = teams_markdown(text[:HEAD_CHARS]) + " …"
        return MessageRef(self._send(teams_cards.message(
            teams_cards.long_answer_card(head, len(text), self.links.url_for(path)))))

    def status(self, text: str, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_update < STATUS_INTERVAL:
            return
        self._last_update = now
        if not final and now - self._last_typing >= TYPING_INTERVAL:
            self._last_typing = now
            self._typing()
        if not self.status_id:
            self.status_id = self.post(text).id or None
            return
        try:
            self.connector.update(self.address, self.status_id, text_message(text))
        except ConnectorError as exc:
            if not exc.retryable:
                self.status_id = self.post(text).id or None
            elif final:
                self.outbox.defer(self.address, text_message(text), self.status_id)

    def upload(self, path: Path, *, title: str | None = None, comment: str | None = None) -> None:
        if path.name == MANIFEST:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            adaptive = teams_cards.manifest_card(manifest, self.links.url_for(path),
                                                 lambda name: self.links.url_for(path.parent / name),
                                                 title=title, comment=comment)
        else:
            url, digest = self.links.url_for(path), file_digest(path)
            adaptive = teams_cards.evidence_card(path, url, digest, title=title, comment=comment)
            if teams_cards.image_uri(path):
                try:
                    self._send(teams_cards.message(adaptive, summary=title or path.name))
                    return
                except ConnectorError as exc:
                    log.warning("card with the inline image refused (%s); sending the link alone", exc)
                adaptive = teams_cards.evidence_card(path, url, digest, title=title, comment=comment, inline=False)
        self._send(teams_cards.message(adaptive, summary=title or path.name))

    def ask_approval(self, request: ApprovalRequest) -> MessageRef:
        requester = self.ref.data.get("user_name") if request.requester == self.ref.user else None
        adaptive = teams_cards.approval_card(request, requester=requester)
        return MessageRef(self._send(teams_cards.message(adaptive, summary=f"Approval needed: {request.tool}")))

    def show_decision(self, card: MessageRef, request: ApprovalRequest, decision: str, by: str) -> None:
        decided = teams_cards.message(teams_cards.approval_card(request, decision=decision, by=by))
        if not card.id:
            self._send(decided)
            return
        try:
            self.connector.update(self.address, card.id, decided)
        except ConnectorError as exc:
            if not exc.retryable:
                raise
            self.outbox.defer(self.address, decided, card.id)
