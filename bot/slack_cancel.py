"""Cancelling a request from Slack: the Cancel button on its status message, or `/audit cancel <job>`.

Those who asked in the job's thread and approvers may cancel. A job no worker holds (queued, parked on
an approval, waiting to retry Claude) is cancelled here and now: its thread and status message say so.
A running job is flagged; its worker stops at its next check (a running tool is killed within about
half a second) and says so in the thread itself.
"""

from __future__ import annotations

import asyncio

from slack_sdk.web.async_client import AsyncWebClient

from bot import texts
from bot.slack_progress import status_blocks
from bot.slack_queries import Lookups
from workers.job_state import JobState, JobStore


async def cancel(lookups: Lookups, job_id: str, user: str) -> tuple[str, JobState | None]:
    """Cancel `job_id` for `user`: the private answer for them, and the job when it was stopped here and now
    (the caller then tells its thread with `tell_thread`, after acknowledging Slack)."""
    job = await asyncio.to_thread(lookups.job, job_id)
    if job is None:
        return texts.unknown_job(job_id), None
    if user not in JobStore.requesters(job) and not lookups.is_approver(user):
        return texts.cancel_not_allowed(job_id), None
    outcome, job = await asyncio.to_thread(lookups.intake.jobs.cancel, job_id, user)
    if outcome == "unknown" or job is None:
        return texts.unknown_job(job_id), None
    if outcome == "finished":
        return texts.nothing_to_cancel(job_id, job.status), None
    if outcome == "stopping":
        return texts.cancelling(job_id), None
    return texts.cancel_done(job_id), job


async def tell_thread(client: AsyncWebClient, job: JobState, user: str) -> None:
    """Say in the job's thread that it was cancelled, and close its status message (no more Cancel)."""
    if job.thread.surface != "slack":
        return
    await client.chat_postMessage(channel=job.thread.channel, thread_ts=job.thread.thread,
                                  text=texts.cancelled(job.id, user, job.seconds_run()))
    status = job.status_message or {}
    if status.get("id"):
        final = texts.cancelled_status(user)
        await client.chat_update(channel=(status.get("data") or {}).get("channel", job.thread.channel),
                                 ts=status["id"], text=final,
                                 blocks=status_blocks(final, job_id=job.id, elapsed=None, can_cancel=False))
