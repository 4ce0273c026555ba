"""The tool registry: every version of every tool, shared by all workers through Redis.

A version enters as `pending` (or `approved` for built-ins), and leaves `pending` exactly once:
`approved`, `rejected`, or `superseded` by a newer version of the same tool. The approved version
named by `auditbot:tool:<name>:current` is the one that runs; rollback points it at an older
approved version. Keys are listed in `workers.redis_keys`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import redis

from workers import redis_keys

Status = Literal["pending", "approved", "rejected", "superseded"]
BUILTIN_APPROVER = "built-in"
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "tools"


def sha256_text(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ToolVersion:
    """One immutable source of a tool plus the record of who asked for it and who approved it."""

    name: str
    version: int
    source: str
    sha256: str
    status: Status
    parent: int | None = None
    note: str = ""
    requested_by: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    selftest: dict[str, Any] | None = None
    approver: str | None = None
    decided_at: str | None = None
    created_at: str = field(default_factory=utcnow)

    @property
    def builtin(self) -> bool:
        return self.approver == BUILTIN_APPROVER

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> ToolVersion:
        return cls(**json.loads(raw))


class DecisionRefused(Exception):
    """A decision that changes nothing (already decided, superseded, unknown version)."""


class Registry:
    """Tool versions in Redis, materialised as module files in this worker's data dir."""

    def __init__(self, conn: redis.Redis, data_dir: Path, builtin_dir: Path = BUILTIN_DIR) -> None:
        self.conn = conn
        self.cache_dir = data_dir / "tools"
        self.builtin_dir = builtin_dir

    # --- reading -------------------------------------------------------------------------
    def names(self) -> list[str]:
        return sorted(n.decode() if isinstance(n, bytes) else n for n in self.conn.smembers(redis_keys.tools()))

    def exists(self, name: str) -> bool:
        return bool(self.conn.sismember(redis_keys.tools(), name))

    def get(self, name: str, version: int) -> ToolVersion | None:
        raw = self.conn.hget(redis_keys.tool_versions(name), str(version))
        return ToolVersion.from_json(raw) if raw else None

    def history(self, name: str) -> list[ToolVersion]:
        raw = self.conn.hgetall(redis_keys.tool_versions(name))
        return sorted((ToolVersion.from_json(v) for v in raw.values()), key=lambda v: v.version)

    def current(self, name: str) -> ToolVersion | None:
        """The approved version that runs, or None."""
        number = self.conn.get(redis_keys.tool_current(name))
        return self.get(name, int(number)) if number else None

    def latest(self, name: str) -> ToolVersion | None:
        history = self.history(name)
        return history[-1] if history else None

    def approved(self) -> list[ToolVersion]:
        """The running version of every tool that has one, by name (two pipelined round trips)."""
        names = self.names()
        pipe = self.conn.pipeline(transaction=False)
        for name in names:
            pipe.get(redis_keys.tool_current(name))
        numbers = pipe.execute()
        for name, number in zip(names, numbers, strict=True):
            if number:
                pipe.hget(redis_keys.tool_versions(name), number)
        return [ToolVersion.from_json(raw) for raw in pipe.execute() if raw]

    # --- writing -------------------------------------------------------------------------
    def add_version(
        self,
        name: str,
        source: str,
        *,
        parent: int | None,
        note: str = "",
        requested_by: dict[str, Any] | None = None,
        checks: dict[str, Any] | None = None,
        approver: str | None = None,
    ) -> ToolVersion:
        """Store a new version; older pending versions of the same tool become superseded."""
        number = int(self.conn.incr(redis_keys.tool_seq(name)))
        version = ToolVersion(
            name=name, version=number, source=source, sha256=sha256_text(source),
            status="approved" if approver else "pending", parent=parent, note=note,
            requested_by=requested_by or {}, checks=checks or {}, approver=approver,
            decided_at=utcnow() if approver else None,
        )
        for older in self.history(name):
            if older.status == "pending":
                older.status = "superseded"
                older.decided_at = utcnow()
                self._save(older)
        pipe = self.conn.pipeline()
        pipe.sadd(redis_keys.tools(), name)
        pipe.hset(redis_keys.tool_versions(name), str(number), version.to_json())
        if approver:
            pipe.set(redis_keys.tool_current(name), number)
        pipe.execute()
        return version

    def update(self, version: ToolVersion) -> None:
        """Store results that arrive after creation (the selftest); never the source or status."""
        stored = self.get(version.name, version.version)
        if stored is None or stored.sha256 != version.sha256:
            raise DecisionRefused(f"{version.name} v{version.version} is not in the registry")
        stored.selftest, stored.checks = version.selftest, version.checks
        self._save(stored)

    def decide(self, name: str, version: int, *, approve: bool, by: str) -> ToolVersion:
        """Approve or reject a pending version; atomic, so the first decision wins."""
        vkey = redis_keys.tool_versions(name)
        with self.conn.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(vkey)
                    raw = pipe.hget(vkey, str(version))
                    if raw is None:
                        raise DecisionRefused(f"{name} v{version} does not exist")
                    record = ToolVersion.from_json(raw)
                    if record.status != "pending":
                        raise DecisionRefused(
                            f"{name} v{version} is already {record.status}"
                            + (f" by {record.approver}" if record.approver else "")
                        )
                    if approve and record.checks.get("blocking"):
                        raise DecisionRefused(f"{name} v{version} has blocking check findings")
                    record.status = "approved" if approve else "rejected"
                    record.approver, record.decided_at = by, utcnow()
                    pipe.multi()
                    pipe.hset(vkey, str(version), record.to_json())
                    if approve:
                        pipe.set(redis_keys.tool_current(name), version)
                    pipe.execute()
                    return record
                except redis.WatchError:
                    continue

    def rollback(self, name: str, version: int) -> ToolVersion:
        """Point the tool at an older approved version; history is kept."""
        record = self.get(name, version)
        if record is None or record.status != "approved":
            raise DecisionRefused(f"{name} v{version} is not an approved version")
        self.conn.set(redis_keys.tool_current(name), version)
        return record

    def _save(self, version: ToolVersion) -> None:
        self.conn.hset(redis_keys.tool_versions(version.name), str(version.version), version.to_json())

    # --- built-ins and materialisation ---------------------------------------------------
    def sync_builtins(self) -> list[ToolVersion]:
        """Register each module of `tools/` as an approved version when its source is new."""
        added = []
        for path in sorted(self.builtin_dir.glob("*.py")):
            if path.name.startswith("_"):
                continue
            source = path.read_text(encoding="utf-8")
            name = path.stem
            latest_builtin = next((v for v in reversed(self.history(name)) if v.builtin), None)
            if latest_builtin and latest_builtin.sha256 == sha256_text(source):
                continue
            current = self.current(name)
            added.append(self.add_version(
                name, source, parent=current.version if current else None,
                note="built-in tool shipped with auditbot", approver=BUILTIN_APPROVER,
            ))
        return added

    def materialise(self, version: ToolVersion) -> Path:
        """Write the version's module file once and check its bytes against the recorded hash."""
        path = self.cache_dir / version.name / f"v{version.version}-{version.sha256[:16]}" / f"{version.name}.py"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(version.source, encoding="utf-8")
            os.replace(tmp, path)
        if hashlib.sha256(path.read_bytes()).hexdigest() != version.sha256:
            raise DecisionRefused(f"{path} does not match the approved hash of {version.name} v{version.version}")
        return path
