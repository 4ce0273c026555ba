"""RQ job entry points: rebuild the conversation, run the agent, report every ending.

This is the one place a job's failure is caught: it is recorded in the job state, told to the
user in plain words, and re-raised so RQ files it in its failed-job registry. Claude being
overloaded is not a failure: the job is rescheduled from its checkpoint.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

import redis
from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from bot import texts
from bot.queueing import JOB_TIMEOUT, enqueue_resume, schedule_expiry
from bot.services import build_services, redis_connection
from bot.surfaces import conversation_for
from workers.agent import Agent, LLMUnavailable, Services
from workers.approvals import card_ref
from workers.job_state import FINISHED, JobState
from workers.settings import Settings, load_settings

log = logging.getLogger(__name__)
LLM_RETRY_DELAYS = (30, 120, 300)


def run_request(job_id: str) -> str:
    """Run or resume one request; returns how it ended."""
    settings = load_settings()
    conn = redis_connection(settings)
    services = build_services(settings, conn)
    job = services.jobs.load(job_id)
    if job is None:
        log.warning("job %s has no state (expired?); nothing to do", job_id)
        return "missing"
    if job.status in FINISHED:
        return job.status
    if job.status == "parked" and job.pending:
        waiting_on = services.registry.get(job.pending["tool"], job.pending["version"])
        if waiting_on is not None and waiting_on.status == "pending" and not _expired(services, job):
            return "still waiting"
    if not _claim(services, conn, job.id):
        return "busy"
    try:
        job = services.jobs.load(job_id) or job  # a cancel or a follow-up may have changed it meanwhile
        if job.status in FINISHED:
            return job.status
        return _run(services, job, conn, settings)
    finally:
        services.jobs.release(job.id)


def _claim(services: Services, conn: redis.Redis, job_id: str) -> bool:
    """Take the job's run lock, or take it over from a runner that died (a killed work-horse, a lost
    worker): RQ retries that job with the same id, or has marked it failed."""
    current = get_current_job()
    holder = f"rq:{current.id}" if current else f"process:{socket.gethostname()}:{os.getpid()}"
    if services.jobs.claim(job_id, holder, JOB_TIMEOUT):
        return True
    held_by = services.jobs.lock_holder(job_id)
    if held_by is None or not held_by.startswith("rq:"):
        return False
    if held_by != holder and _alive(conn, held_by.removeprefix("rq:")):
        return False
    return services.jobs.take_over(job_id, held_by, holder, JOB_TIMEOUT)


def _alive(conn: redis.Redis, rq_job_id: str) -> bool:
    try:
        return Job.fetch(rq_job_id, connection=conn).get_status() in (JobStatus.STARTED, JobStatus.QUEUED)
    except NoSuchJobError:
        return False


def _expired(services: Services, job: JobState) -> bool:
    token = job.cards.get(f"{job.pending['tool']}:{job.pending['version']}", {}).get("token")  # type: ignore[index]
    return token is None or not services.approvals.is_open(token)


def _run(services: Services, job: JobState, conn: redis.Redis, settings: Settings) -> str:
    conversation = conversation_for(job, settings)
    try:
        outcome = Agent(services, job, conversation).run()
    except LLMUnavailable as exc:
        attempt = job.llm_retries
        if attempt < len(LLM_RETRY_DELAYS):
            job.llm_retries = attempt + 1
            job.status = "queued"
            services.jobs.save(job)
            delay = LLM_RETRY_DELAYS[attempt]
            conversation.status(texts.llm_retry(str(exc), delay), final=True)
            enqueue_resume(conn, job.id, timedelta(seconds=delay))
            return "rescheduled"
        job.status, job.error = "failed", str(exc)
        services.jobs.save(job)
        conversation.post(texts.llm_gave_up())
        conversation.status(texts.failed_status(), final=True)
        raise
    except Exception as exc:
        job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        services.jobs.save(job)
        conversation.post(texts.job_failed(job.id, exc))
        conversation.status(texts.failed_status(), final=True)
        raise
    services.jobs.save(job)
    if outcome == "cancelled":
        by = services.jobs.cancel_requested(job.id) or "?"
        conversation.post(texts.cancelled(job.id, by, job.seconds_run()))
        conversation.status(texts.cancelled_status(by), final=True)
    if outcome == "parked":
        schedule_expiry(conn, job.cards[f"{job.pending['tool']}:{job.pending['version']}"]["token"],
                        timedelta(hours=settings.auditbot_approval_ttl_hours))
    return outcome


def expire_approval(token: str) -> str:
    """An approval nobody decided in time: close it, grey the card, let the job finish."""
    settings = load_settings()
    conn = redis_connection(settings)
    services = build_services(settings, conn)
    decision = services.approvals.expire(token)
    if not decision.ok:
        return "already decided"
    job = services.jobs.load(decision.job_id)
    if job is None:
        return "expired"
    conversation = conversation_for(job, settings)
    card = card_ref(decision.card)
    request = services.approvals.request_for(token)
    if card is not None and request is not None:
        conversation.show_decision(card, request, "expired", "nobody")
    if job.status == "parked" and job.pending and job.pending["tool"] == decision.tool:
        enqueue_resume(conn, job.id)
    return "expired"
