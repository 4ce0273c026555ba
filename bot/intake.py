"""Turning an inbound chat message into a queued job, the same way for every surface.

Checks come first (empty, too long), then the delivery is deduplicated in Redis (Slack and Teams
redeliver), then the sender's rate limit is counted, then a status message is posted and the job
enqueued. A message in a thread whose first request became a job continues that job's conversation
(`auditbot:thread:<surface>:<channel>:<thread>`); any other message starts a new job. Redis being
down is answered in the thread; nothing half-queued is left behind.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis

from bot import texts
from bot.queueing import enqueue_request, enqueue_resume
from bot.rate_limits import RateLimiter
from workers import redis_keys
from workers.conversation import ThreadRef
from workers.job_state import FINISHED, JOB_TTL_SECONDS, JobState, JobStore, new_job_id

DEDUPE_TTL = 3600
USER_JOBS_KEPT = 50

Say = Callable[[str], Awaitable[dict[str, Any]]]
Edit = Callable[[dict[str, Any], str], Awaitable[None]]
Announce = Callable[[JobState, str], Awaitable[dict[str, Any]]]
"""Posts the status message of a job about to be queued; it may stamp `job.thread` with what the surface's
status line needs later (Slack: the job id for its Cancel button, and the start time)."""


def thread_id(thread: ThreadRef) -> str:
    return f"{thread.channel}:{thread.thread}"


@dataclass(frozen=True)
class Intake:
    """One surface's entry point into the queue."""

    conn: redis.Redis
    limiter: RateLimiter | None = None

    @property
    def jobs(self) -> JobStore:
        return JobStore(self.conn)

    def first_delivery(self, surface: str, delivery_id: str | None) -> bool:
        """True the first time a delivery id is seen within the TTL (SET NX)."""
        if not delivery_id:
            return True
        return bool(self.conn.set(redis_keys.dedupe(surface, delivery_id), 1, nx=True, ex=DEDUPE_TTL))

    def admit(self, surface: str, user: str, channel: str) -> str | None:
        """Count the request against its sender's and channel's limits; the refusal text when over one."""
        throttled = self.limiter.hit(surface, user, channel) if self.limiter else None
        if throttled is None:
            return None
        return texts.rate_limited(throttled.scope, throttled.limit, throttled.window_seconds, throttled.retry_after)

    def thread_job(self, thread: ThreadRef) -> JobState | None:
        """The job whose conversation this thread continues, if its first request became one."""
        job_id = self.conn.get(redis_keys.thread(thread.surface, thread_id(thread)))
        return self.jobs.load(job_id.decode()) if job_id else None

    def queue(self, job: JobState, *, threaded: bool = False) -> None:
        """Store and enqueue a new job; `threaded`: later messages in its thread continue it."""
        self.jobs.save(job)
        pipe = self.conn.pipeline()
        if threaded:
            pipe.set(redis_keys.thread(job.thread.surface, thread_id(job.thread)), job.id, ex=JOB_TTL_SECONDS)
        self._remember(pipe, job)
        pipe.execute()
        enqueue_request(self.conn, job.id)

    def follow_up(self, job_id: str, text: str, thread: ThreadRef, status: dict[str, Any]) -> JobState | None:
        """Queue the thread's ended job again with `text`; None when it is still busy."""
        job = self.jobs.follow_up(job_id, text, thread, status)
        if job is None:
            return None
        pipe = self.conn.pipeline()
        self._remember(pipe, job)
        pipe.execute()
        enqueue_request(self.conn, job.id)
        return job

    def recent_jobs(self, surface: str, user: str, count: int) -> list[JobState]:
        """The user's newest jobs, newest first (those still within the job TTL)."""
        ids = [i.decode() for i in self.conn.zrevrange(redis_keys.user_jobs(surface, user), 0, count - 1)]
        raws = self.conn.mget([redis_keys.job(i) for i in ids]) if ids else []
        return [JobState.from_json(raw) for raw in raws if raw]

    def resume_if_parked(self, job_id: str, tool: str, version: int) -> None:
        """After a decision: enqueue the continuation when the job waits on exactly this version."""
        job = self.jobs.load(job_id)
        if job and job.status == "parked" and job.pending and (job.pending["tool"], job.pending["version"]) == (
                tool, version):
            enqueue_resume(self.conn, job_id)

    def _remember(self, pipe: redis.client.Pipeline, job: JobState) -> None:
        """Index the job under its (latest) requester, newest 50 kept, for their App Home and `/audit status`."""
        key = redis_keys.user_jobs(job.thread.surface, job.thread.user)
        pipe.zadd(key, {job.id: time.time()})
        pipe.zremrangebyrank(key, 0, -USER_JOBS_KEPT - 1)
        pipe.expire(key, JOB_TTL_SECONDS)


async def accept(intake: Intake, text: str, thread: ThreadRef, delivery_id: str | None, say: Say,
                 edit: Edit, run_sync: Callable[..., Awaitable[Any]], *, announce: Announce | None = None,
                 refuse: Say | None = None, counted: bool = False, follow_ups: bool = False) -> str | None:
    """Validate, dedupe, rate-limit, acknowledge in the thread and enqueue; returns the job id when queued.

    `announce` posts the status message (default: `say`); `refuse` answers a rate-limited sender
    (default: `say`; Slack answers privately). `counted` says the caller has already admitted the
    request (a slash command checks before it opens a thread). With `follow_ups` (Slack), a message in
    the thread of an earlier job continues that job's conversation.
    """
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
        refusal = None if counted else await run_sync(intake.admit, thread.surface, thread.user, thread.channel)
        earlier = await run_sync(intake.thread_job, thread) if follow_ups and not refusal else None
    except redis.RedisError:
        await say(texts.cannot_queue())
        return None
    if refusal:
        await (refuse or say)(refusal)
        return None
    post_status = announce or (lambda _job, message: say(message))
    if earlier is not None:
        return await _follow_up(intake, earlier, text, thread, say, edit, run_sync, post_status)
    job = JobState(id=new_job_id(), request=text, thread=thread)
    job.status_message = await post_status(job, texts.queued(job.id))
    try:
        await run_sync(intake.queue, job, threaded=follow_ups)
    except redis.RedisError:
        await edit(job.status_message, texts.cannot_queue())
        return None
    return job.id


async def _follow_up(intake: Intake, earlier: JobState, text: str, thread: ThreadRef, say: Say, edit: Edit,
                     run_sync: Callable[..., Awaitable[Any]], post_status: Announce) -> str | None:
    """Go on with the thread's conversation, or say the previous request is still being worked on."""
    if earlier.status not in FINISHED:
        await say(texts.still_working(earlier.id, earlier.status))
        return None
    earlier.thread = thread
    status = await post_status(earlier, texts.follow_up_queued(earlier.id))
    try:
        job = await run_sync(intake.follow_up, earlier.id, text, earlier.thread, status)
    except redis.RedisError:
        await edit(status, texts.cannot_queue())
        return None
    if job is None:
        await edit(status, texts.still_working(earlier.id, "busy"))
        return None
    return job.id
