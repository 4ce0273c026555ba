"""Job state in Redis: what a request is, where it lives, and where its agent loop stands.

A job is created by the surface that received the request (status `queued`), run by a worker
(`running`), may wait for a human (`parked`, state kept, worker freed) and ends `done`, `failed`,
`stopped` or `cancelled`. The Claude conversation is checkpointed after every turn, so a retried or
resumed job continues where it stopped. A follow-up in the job's thread queues the ended job again
with the new message appended to its conversation (`JobStore.follow_up`).

Cancelling is a flag (`auditbot:job:<id>:cancel`) the worker checks between Claude turns, before each
tool call and while a tool runs; a job no worker holds is cancelled on the spot (`JobStore.cancel`).
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from workers import redis_keys
from workers.conversation import ThreadRef

JOB_TTL_SECONDS = 30 * 24 * 3600
TAKE_OVER = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
             "return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end")
CANCEL_TTL_SECONDS = 24 * 3600
FINISHED = ("done", "failed", "stopped", "cancelled")
ACTIVE = ("queued", "running", "parked")


def new_job_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


@dataclass
class JobState:
    """Everything a worker needs to run or resume a request; JSON in Redis."""

    id: str
    request: str
    thread: ThreadRef
    status: str = "queued"
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    started_at: str | None = None
    ended_at: str | None = None
    status_message: dict[str, Any] | None = None
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    fix_rounds: dict[str, int] = field(default_factory=dict)
    llm_retries: int = 0
    pending: dict[str, Any] | None = None
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    evidence_dir: str | None = None
    offered: list[str] | None = None
    not_collected: list[str] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)

    def seconds_run(self) -> float | None:
        """How long the current request ran, from its start to its end (or now); None before it started."""
        if not self.started_at:
            return None
        end = datetime.fromisoformat(self.ended_at) if self.ended_at else datetime.now(UTC)
        return (end - datetime.fromisoformat(self.started_at)).total_seconds()

    def to_json(self) -> str:
        raw = asdict(self)
        raw["thread"] = self.thread.to_dict()
        return json.dumps(raw)

    @classmethod
    def from_json(cls, raw: str | bytes) -> JobState:
        data = json.loads(raw)
        data["thread"] = ThreadRef.from_dict(data["thread"])
        return cls(**data)


def unfinished_call_result() -> str:
    """What Claude reads for a tool call the previous request never answered (it was cancelled or failed)."""
    return "This call did not complete: the request ended before it ran. Do not assume it ran."


def with_follow_up(history: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The conversation with a new user message, kept valid for the Messages API.

    Roles must alternate and every `tool_use` needs its `tool_result`: a request that ended between a
    tool call and its result gets an error result for each open call, in the same user message as the
    new text; one that ended on a user message (results of its last calls) gets the text added to it.
    """
    turns = copy.deepcopy(history)
    block = {"type": "text", "text": text}
    if not turns:
        return [{"role": "user", "content": text}]
    last = turns[-1]
    if last["role"] == "user":
        content = last["content"]
        last["content"] = [{"type": "text", "text": content}, block] if isinstance(content, str) else [*content, block]
        return turns
    open_calls = [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_use"]
    results = [{"type": "tool_result", "tool_use_id": b["id"], "content": unfinished_call_result(), "is_error": True}
               for b in open_calls]
    return [*turns, {"role": "user", "content": [*results, block] if results else text}]


class JobStore:
    """Reads and writes job state and the checkpointed conversation."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn

    def claim(self, job_id: str, holder: str, ttl: int) -> bool:
        """Take the job's run lock; a job is run by one worker at a time, however often it is enqueued."""
        return bool(self.conn.set(redis_keys.job_lock(job_id), holder, nx=True, ex=ttl))

    def lock_holder(self, job_id: str) -> str | None:
        raw = self.conn.get(redis_keys.job_lock(job_id))
        return raw.decode() if raw else None

    def take_over(self, job_id: str, expected: str, holder: str, ttl: int) -> bool:
        """Replace a dead runner's lock, only if it is still that runner's (compare-and-set)."""
        return bool(self.conn.eval(TAKE_OVER, 1, redis_keys.job_lock(job_id), expected, holder, ttl))

    def release(self, job_id: str) -> None:
        self.conn.delete(redis_keys.job_lock(job_id))

    def save(self, job: JobState) -> None:
        self.conn.set(redis_keys.job(job.id), job.to_json(), ex=JOB_TTL_SECONDS)

    def load(self, job_id: str) -> JobState | None:
        raw = self.conn.get(redis_keys.job(job_id))
        return JobState.from_json(raw) if raw else None

    def messages(self, job_id: str) -> list[dict[str, Any]]:
        raw = self.conn.get(redis_keys.job_messages(job_id))
        return json.loads(raw) if raw else []

    def checkpoint(self, job: JobState, messages: list[dict[str, Any]]) -> None:
        """Store state and conversation together, so a resume sees a consistent pair."""
        pipe = self.conn.pipeline()
        pipe.set(redis_keys.job(job.id), job.to_json(), ex=JOB_TTL_SECONDS)
        pipe.set(redis_keys.job_messages(job.id), json.dumps(messages), ex=JOB_TTL_SECONDS)
        pipe.execute()

    # --- cancelling ---------------------------------------------------------------------------
    @staticmethod
    def requesters(job: JobState) -> set[str]:
        """Everyone who asked in the job's conversation: the first request and each follow-up."""
        return {job.thread.user, *(f["previous"]["user"] for f in job.followups)}

    def cancel_requested(self, job_id: str) -> str | None:
        """Who asked to cancel the job, or None; read by the worker between steps."""
        raw = self.conn.get(redis_keys.job_cancel(job_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    def cancel(self, job_id: str, by: str) -> tuple[str, JobState | None]:
        """Ask to stop a job: `cancelled` (no worker held it, so it is stopped here), `stopping` (its worker
        stops at its next check), `finished` (nothing to stop) or `unknown`."""
        job = self.load(job_id)
        if job is None:
            return "unknown", None
        if job.status in FINISHED:
            return "finished", job
        self.conn.set(redis_keys.job_cancel(job_id), by, ex=CANCEL_TTL_SECONDS)
        if not self.claim(job_id, f"cancel:{by}", 30):
            return "stopping", job
        try:
            job = self.load(job_id)
            if job is None or job.status in FINISHED:
                return "finished", job
            job.status, job.ended_at = "cancelled", datetime.now(UTC).isoformat(timespec="seconds")
            self.save(job)
            return "cancelled", job
        finally:
            self.release(job_id)

    # --- follow-ups ---------------------------------------------------------------------------
    def follow_up(self, job_id: str, text: str, thread: ThreadRef, status_message: dict[str, Any]) -> JobState | None:
        """Queue an ended job again with `text` as the next user message; None while it is still active.

        Per-request counters (turns, tokens, repair rounds) start again; what the previous request used
        is kept in `followups`. `thread.user` is who asked this time (four-eyes applies to them).
        """
        if not self.claim(job_id, "follow-up", 30):
            return None
        try:
            job = self.load(job_id)
            if job is None or job.status not in FINISHED:
                return None
            history = self.messages(job_id) or [{"role": "user", "content": job.request}]
            previous = {"user": job.thread.user, "status": job.status, "turns": job.turns,
                        "input_tokens": job.input_tokens, "output_tokens": job.output_tokens}
            job.followups.append({"text": text, "user": thread.user, "previous": previous,
                                  "at": datetime.now(UTC).isoformat(timespec="seconds")})
            job.thread, job.status, job.status_message = thread, "queued", status_message
            job.turns = job.input_tokens = job.output_tokens = job.llm_retries = 0
            job.fix_rounds, job.pending, job.error, job.not_collected = {}, None, None, []
            job.started_at = job.ended_at = None
            self.conn.delete(redis_keys.job_cancel(job_id))
            self.checkpoint(job, with_follow_up(history, text))
            return job
        finally:
            self.release(job_id)
