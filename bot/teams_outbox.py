"""Messages the Bot Connector would not take now, delivered later by RQ so no answer is lost.

When the Connector is down or keeps answering 5xx past the connector's own short retries, a worker
hands the message here instead of failing the job. It becomes an RQ job scheduled with RQ's `Retry`
(its payload: the address, the activity JSON and, for an update in place, the activity id), so it
survives worker restarts; after the last retry, about an hour later, RQ files it as failed, where
operators see it. Delivery needs a worker started with the scheduler, as `auditbot worker` is.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import redis
from microsoft_teams.api import MessageActivityInput
from rq import Retry

from bot.queueing import queue
from bot.teams_connector import Address, BlockingConnector
from bot.teams_tokens import bot_tokens
from workers.settings import load_settings

log = logging.getLogger(__name__)

FIRST_TRY = timedelta(seconds=30)
RETRY = Retry(max=5, interval=[60, 120, 300, 600, 1800])


class Outbox:
    """Hands undeliverable messages to RQ."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn

    def defer(self, address: Address, activity: MessageActivityInput, activity_id: str | None = None) -> None:
        payload = activity.model_dump(by_alias=True, exclude_none=True)
        queue(self.conn).enqueue_in(FIRST_TRY, "bot.teams_outbox.deliver", address.to_dict(), payload, activity_id,
                                    retry=RETRY, description="auditbot Teams delivery")
        log.warning("Connector unavailable; message for %s deferred to the outbox", address.conversation_id)


def deliver(address: dict[str, Any], activity: dict[str, Any], activity_id: str | None = None) -> str:
    """Send (or, with `activity_id`, update) one message; raising makes RQ try again later."""
    settings = load_settings()
    connector = BlockingConnector(bot_tokens(settings), settings.teams_service_url_hosts)
    target, message = Address(**address), MessageActivityInput.model_validate(activity)
    if activity_id:
        connector.update(target, activity_id, message)
        return activity_id
    return connector.send(target, message)
