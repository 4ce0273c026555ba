"""The approval flow: a card per eligible version, and the rules for deciding it.

Rules (the same on every surface): only `AUDITBOT_APPROVERS` decide; with four-eyes on, the
requester may not approve their own change; the first decision wins (the registry's compare-and-set);
a superseded or expired card changes nothing. The opaque button value is a random token that names
an `auditbot:approval:<token>` hash; it carries nothing an attacker could forge into meaning.
"""

from __future__ import annotations

import difflib
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from workers import redis_keys
from workers.conversation import ApprovalRequest, Conversation, MessageRef
from workers.job_state import JobState
from workers.registry import DecisionRefused, Registry, ToolVersion
from workers.settings import Settings

AUTO_APPROVER = "auto-approve (development)"


@dataclass(frozen=True)
class Decision:
    """The outcome of a click: `ok` means the version's status changed."""

    ok: bool
    message: str
    tool: str = ""
    version: int = 0
    approved: bool = False
    job_id: str = ""
    card: dict | None = None
    request: ApprovalRequest | None = None


def change_text(registry: Registry, version: ToolVersion) -> tuple[str, bool]:
    """The diff against the running version, or the whole source for a new tool."""
    base = registry.current(version.name)
    if base is None or base.version == version.version:
        return version.source, False
    diff = difflib.unified_diff(
        base.source.splitlines(), version.source.splitlines(),
        f"{version.name} v{base.version}", f"{version.name} v{version.version}", lineterm="",
    )
    return "\n".join(diff), True


def selftest_text(version: ToolVersion) -> str:
    if version.selftest is None:
        return "no selftest"
    if version.selftest.get("ok"):
        return f"passed against simulated AWS ({version.selftest.get('calls', 0)} AWS calls)"
    return "FAILED: " + str(version.selftest.get("error", ""))[-500:]


class ApprovalDesk:
    """Opens approval cards and applies decisions."""

    def __init__(self, conn: redis.Redis, registry: Registry, settings: Settings) -> None:
        self.conn = conn
        self.registry = registry
        self.settings = settings

    @property
    def ttl_seconds(self) -> int:
        return int(self.settings.auditbot_approval_ttl_hours * 3600)

    def open(self, job: JobState, version: ToolVersion, conversation: Conversation, source_path: Path) -> str:
        """Post the card; with auto-approve on (development only), decide at once."""
        token = secrets.token_urlsafe(18)
        change, is_diff = change_text(self.registry, version)
        request = ApprovalRequest(
            token=token, tool=version.name, version=version.version, request_text=job.request,
            requester=job.thread.user, change=change, change_is_diff=is_diff,
            findings=[f["line_text"] for f in version.checks.get("findings", [])],
            selftest=selftest_text(version), source_path=source_path, note=version.note,
        )
        record = {"tool": version.name, "version": version.version, "job_id": job.id,
                  "requester": job.thread.user, "surface": job.thread.surface,
                  "expires": time.time() + self.ttl_seconds, "request": json.dumps(request_to_dict(request))}
        pipe = self.conn.pipeline()
        pipe.hset(redis_keys.approval(token), mapping=record)
        pipe.expire(redis_keys.approval(token), self.ttl_seconds + 3600)
        pipe.zadd(redis_keys.approvals_pending(), {token: record["expires"]})
        pipe.execute()
        card = conversation.ask_approval(request)
        self.conn.hset(redis_keys.approval(token), "card", json.dumps({"id": card.id, "data": card.data}))
        job.cards[f"{version.name}:{version.version}"] = {"token": token, "id": card.id, "data": card.data}
        if self.settings.auditbot_auto_approve:
            self.decide(token, AUTO_APPROVER, approve=True, trusted=True)
            conversation.show_decision(card, request, "approved", AUTO_APPROVER)
        return token

    def decide(self, token: str, user: str, *, approve: bool, trusted: bool = False) -> Decision:
        """Apply one click. `trusted` is for the terminal operator and auto-approve only."""
        raw = self.conn.hgetall(redis_keys.approval(token))
        if not raw:
            return Decision(False, "This approval request is unknown or has expired; nothing was changed.")
        record = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                  for k, v in raw.items()}
        tool, version = record["tool"], int(record["version"])
        request = request_from_dict(json.loads(record["request"]))
        card = json.loads(record["card"]) if record.get("card") else None
        base = {"tool": tool, "version": version, "job_id": record["job_id"], "card": card, "request": request}
        if not trusted:
            if user not in self.settings.auditbot_approvers:
                return Decision(False, f"Only approvers may decide on {tool} v{version}; nothing was changed.", **base)
            if approve and self.settings.auditbot_four_eyes and user == record["requester"]:
                return Decision(False, f"Four-eyes rule: you asked for {tool} v{version}, so someone else must "
                                       "approve it. Nothing was changed.", **base)
        if not self.is_open(token):
            current = self.registry.get(tool, version)
            if current is not None and current.status != "pending":
                return Decision(False, f"{tool} v{version} is already {current.status}"
                                       f"{f' by {current.approver}' if current.approver else ''}; nothing was changed.",
                                **base)
            return Decision(False, f"The approval request for {tool} v{version} has expired; nothing was changed.",
                            **base)
        if float(record["expires"]) < time.time():
            return Decision(False, f"The approval request for {tool} v{version} has expired; nothing was changed.",
                            **base)
        try:
            self.registry.decide(tool, version, approve=approve, by=user)
        except DecisionRefused as exc:
            return Decision(False, f"{exc}; nothing was changed.", **base)
        self.close(token)
        verb = "approved" if approve else "rejected"
        return Decision(True, f"{tool} v{version} {verb} by {user}.", approved=approve, **base)

    def is_open(self, token: str) -> bool:
        return self.conn.zscore(redis_keys.approvals_pending(), token) is not None

    def request_for(self, token: str) -> ApprovalRequest | None:
        raw = self.conn.hget(redis_keys.approval(token), "request")
        return request_from_dict(json.loads(raw)) if raw else None

    def close(self, token: str) -> None:
        pipe = self.conn.pipeline()
        pipe.zrem(redis_keys.approvals_pending(), token)
        pipe.expire(redis_keys.approval(token), 3600)
        pipe.execute()

    def expire(self, token: str) -> Decision:
        """Called when an approval's time is up: an undecided version is left pending, the job is told."""
        raw = self.conn.hgetall(redis_keys.approval(token))
        if not raw or not self.is_open(token):
            return Decision(False, "already decided")
        record = {k.decode(): v.decode() for k, v in raw.items()}
        self.close(token)
        return Decision(True, f"The approval request for {record['tool']} v{record['version']} expired.",
                        tool=record["tool"], version=int(record["version"]), job_id=record["job_id"],
                        card=json.loads(record["card"]) if record.get("card") else None)

    def pending(self) -> list[dict]:
        tokens = self.conn.zrange(redis_keys.approvals_pending(), 0, -1)
        rows = []
        for token in tokens:
            raw = self.conn.hgetall(redis_keys.approval(token.decode() if isinstance(token, bytes) else token))
            if raw:
                rows.append({k.decode(): v.decode() for k, v in raw.items() if k != b"request"})
        return rows


def request_to_dict(request: ApprovalRequest) -> dict:
    return {**request.__dict__, "source_path": str(request.source_path) if request.source_path else None}


def request_from_dict(raw: dict) -> ApprovalRequest:
    raw = dict(raw)
    raw["source_path"] = Path(raw["source_path"]) if raw.get("source_path") else None
    return ApprovalRequest(**raw)


def card_ref(card: dict | None) -> MessageRef | None:
    return MessageRef(card["id"], card.get("data") or {}) if card else None
