"""The RQ queue of agent jobs. Jobs carry only a job id; everything else is in Redis."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue, Retry

QUEUE_NAME = "auditbot"
JOB_TIMEOUT = 3600
CRASH_RETRY = Retry(max=2, interval=[10, 60])  # a killed work-horse or a lost worker; the job resumes


def queue(conn: redis.Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=conn, default_timeout=JOB_TIMEOUT)


def enqueue_request(conn: redis.Redis, job_id: str) -> None:
    queue(conn).enqueue("bot.jobs.run_request", job_id, description=f"auditbot request {job_id}", retry=CRASH_RETRY)


def enqueue_resume(conn: redis.Redis, job_id: str, delay: timedelta | None = None) -> None:
    """Continue a parked (or throttled) job; a delay needs a worker started with the scheduler."""
    q = queue(conn)
    if delay:
        q.enqueue_in(delay, "bot.jobs.run_request", job_id, description=f"auditbot resume {job_id}",
                     retry=CRASH_RETRY)
    else:
        q.enqueue("bot.jobs.run_request", job_id, description=f"auditbot resume {job_id}", retry=CRASH_RETRY)


def schedule_expiry(conn: redis.Redis, token: str, after: timedelta) -> None:
    queue(conn).enqueue_in(after, "bot.jobs.expire_approval", token, description="auditbot approval expiry")

