"""Turning an inbound chat message into a queued job, the same way for every surface.

Checks come first (empty, too long), then the delivery is deduplicated in Redis (Slack and Teams
redeliver), then a status message is posted and the job enqueued. Redis being down is answered
in the thread; nothing half-queued is left behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis

from bot import texts
from bot.queueing import enqueue_request, enqueue_resume
from workers import redis_keys
from workers.conversation import ThreadRef
from workers.job_state import JobState, JobStore, new_job_id

DEDUPE_TTL = 3600

Say = Callable[[str], Awaitable[dict[str, Any]]]
Edit = Callable[[dict[str, Any], str], Awaitable[None]]


@dataclass(frozen=True)
class Intake:
    """One surface's entry point into the queue."""

    conn: redis.Redis

    def first_delivery(self, surface: str, delivery_id: str | None) -> bool:
        """True the first time a delivery id is seen within the TTL (SET NX)."""
        if not delivery_id:
            return True
        return bool(self.conn.set(redis_keys.dedupe(surface, delivery_id), 1, nx=True, ex=DEDUPE_TTL))

    def queue(self, job: JobState) -> None:
        JobStore(self.conn).save(job)
        enqueue_request(self.conn, job.id)

    def resume_if_parked(self, job_id: str, tool: str, version: int) -> None:
        """After a decision: enqueue the continuation when the job waits on exactly this version."""
        job = JobStore(self.conn).load(job_id)
        if job and job.status == "parked" and job.pending and (job.pending["tool"], job.pending["version"]) == (
                tool, version):
            enqueue_resume(self.conn, job_id)


async def accept(intake: Intake, text: str, thread: ThreadRef, delivery_id: str | None, say: Say,
                 edit: Edit, run_sync: Callable[..., Awaitable[Any]]) -> str | None:
    """Validate, dedupe, acknowledge in the thread and enqueue; returns the job id when queued."""
    text = text.strip()
    if not text:
        await say(texts.empty_request())
        return None
    if len(text) > texts.MAX_REQUEST_CHARS:
        await say(texts.too_long(len(text)))
        return None
    try:
        if not await run_sync(intake.first_delivery, thread.surface, delivery_id):
            return None
    except redis.RedisError:
        await say(texts.cannot_queue())
        return None
    job_id = new_job_id()
    status = await say(texts.queued(job_id))
    job = JobState(id=job_id, request=text, thread=thread, status_message=status)
    try:
        await run_sync(intake.queue, job)
    except redis.RedisError:
        await edit(status, texts.cannot_queue())
        return None
    return job_id
