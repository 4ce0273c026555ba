"""What the App Home and the `/audit` subcommands show, read from Redis and the evidence folder.

Plain rows, no Slack: `bot.slack_home` and `bot.slack_commands` turn them into blocks. Every read is a
handful of Redis round trips (pipelined where a list is long), so a reply fits in Slack's 3-second ack.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime

from bot.intake import Intake
from bot.slack_evidence import EvidenceIndex
from workers import redis_keys
from workers.approvals import ApprovalDesk
from workers.evidence_config import renewal_policy
from workers.freshness import Entry
from workers.job_state import JobState
from workers.registry import Registry, ToolVersion
from workers.settings import Settings
from workers.tool_usage import ToolUsage


@dataclass(frozen=True)
class ToolRow:
    name: str
    version: int
    approver: str
    last_used: float | None
    pending: int | None
    retired: bool


@dataclass(frozen=True)
class ApprovalRow:
    tool: str
    version: int
    job_id: str
    requester: str
    expires: float
    surface: str
    card_channel: str | None
    card_ts: str | None
    thread_ts: str | None


@dataclass(frozen=True)
class EvidenceRow:
    entry: Entry
    job: JobState | None


class Lookups:
    """Read-only views over the registry, approvals, jobs and evidence, for one Slack app."""

    def __init__(self, settings: Settings, intake: Intake, desk: ApprovalDesk) -> None:
        self.settings = settings
        self.intake = intake
        self.desk = desk
        self.registry: Registry = desk.registry
        self.usage = ToolUsage(intake.conn)
        self.evidence = EvidenceIndex(settings.auditbot_evidence_dir, renewal_policy(settings))

    def is_approver(self, user: str) -> bool:
        return user in self.settings.auditbot_approvers

    def tools(self) -> list[ToolRow]:
        """Every tool that has a running version, by name: version, approver, last use, a newer pending one.
        Two pipelined round trips whatever the size of the library."""
        names = self.registry.names()
        pipe = self.intake.conn.pipeline(transaction=False)
        for name in names:
            pipe.get(redis_keys.tool_current(name))
            pipe.hgetall(redis_keys.tool_versions(name))
        answers = pipe.execute()
        last_uses = self.usage.last_uses(names)
        retired = self.usage.retired_among(names)
        rows = []
        for name, current, versions in zip(names, answers[::2], answers[1::2], strict=True):
            history = {int(k): ToolVersion.from_json(v) for k, v in versions.items()}
            running = history.get(int(current)) if current else None
            if running is None:
                continue
            pending = max((n for n, v in history.items() if v.status == "pending"), default=None)
            rows.append(ToolRow(name, running.version, running.approver or "?", last_uses.get(name), pending,
                                name in retired))
        return rows

    def approvals(self, user: str) -> tuple[list[ApprovalRow], bool]:
        """Open approvals, soonest expiry first: all of them for an approver, else those of the user's requests.
        The flag says whether the list is complete."""
        everyone = self.is_approver(user)
        rows = []
        for record in self.desk.pending():
            if not everyone and record.get("requester") != user:
                continue
            card = json.loads(record["card"]) if record.get("card") else {}
            job = self.intake.jobs.load(record["job_id"])
            rows.append(ApprovalRow(record["tool"], int(record["version"]), record["job_id"], record["requester"],
                                    float(record["expires"]), record.get("surface", "slack"),
                                    (card.get("data") or {}).get("channel"), card.get("id"),
                                    job.thread.thread if job else None))
        return sorted(rows, key=lambda r: r.expires), everyone

    def jobs_of(self, user: str, count: int) -> list[JobState]:
        return self.intake.recent_jobs("slack", user, count)

    def job(self, job_id: str) -> JobState | None:
        return self.intake.jobs.load(job_id)

    def recent_evidence(self, count: int) -> list[EvidenceRow]:
        return self._with_jobs(self.evidence.recent(count))

    def stale_evidence(self, count: int) -> tuple[list[EvidenceRow], int]:
        """The `count` most overdue, and how many are overdue in all."""
        stale = self.evidence.stale()
        return self._with_jobs(stale[:count]), len(stale)

    def _with_jobs(self, entries: list[Entry]) -> list[EvidenceRow]:
        return [EvidenceRow(e, self.intake.jobs.load(e.job)) for e in entries]


def age(iso_time: str) -> float:
    """Seconds since an ISO timestamp."""
    return time.time() - datetime.fromisoformat(iso_time).timestamp()
