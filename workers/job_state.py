"""Job state in Redis: what a request is, where it lives, and where its agent loop stands.

A job is created by the surface that received the request (status `queued`), run by a worker
(`running`), may wait for a human (`parked`, state kept, worker freed) and ends `done`, `failed`
or `cancelled`. The Claude conversation is checkpointed after every turn, so a retried or resumed
job continues where it stopped.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from workers import redis_keys
from workers.conversation import ThreadRef

JOB_TTL_SECONDS = 30 * 24 * 3600


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

    def to_json(self) -> str:
        raw = asdict(self)
        raw["thread"] = self.thread.to_dict()
        return json.dumps(raw)

    @classmethod
    def from_json(cls, raw: str | bytes) -> JobState:
        data = json.loads(raw)
        data["thread"] = ThreadRef.from_dict(data["thread"])
        return cls(**data)


class JobStore:
    """Reads and writes job state and the checkpointed conversation."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn

    def claim(self, job_id: str, holder: str, ttl: int) -> bool:
        """Take the job's run lock; a job is run by one worker at a time, however often it is enqueued."""
        return bool(self.conn.set(redis_keys.job_lock(job_id), holder, nx=True, ex=ttl))

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
