"""How each tool is used, and whether it is retired: what keeps a large library honest.

Counters move on every real run (never on selftests). Nothing is deleted automatically: a tool unused
for `stale_after` is *stale* (offered less), and only a human retires one (offered never, history kept).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from workers import redis_keys

SERVED_KEPT = 50
DAY = 86_400


@dataclass(frozen=True)
class Usage:
    uses: int = 0
    successes: int = 0
    failures: int = 0
    last_use: float | None = None
    last_success: float | None = None
    last_failure: float | None = None

    @property
    def failure_rate(self) -> float:
        return self.failures / self.uses if self.uses else 0.0


class ToolUsage:
    """Usage counters, served requests and retirement per tool, in Redis."""

    def __init__(self, conn: redis.Redis, stale_after_days: float = 90) -> None:
        self.conn = conn
        self.stale_after = stale_after_days * DAY

    def record(self, name: str, *, ok: bool, job_id: str, user: str, request: str) -> None:
        now = time.time()
        outcome = "successes" if ok else "failures"
        pipe = self.conn.pipeline()
        pipe.hincrby(redis_keys.tool_usage(name), "uses", 1)
        pipe.hincrby(redis_keys.tool_usage(name), outcome, 1)
        pipe.hset(redis_keys.tool_usage(name), mapping={
            "last_use": now, "last_success" if ok else "last_failure": now})
        pipe.lpush(redis_keys.tool_served(name), json.dumps(
            {"job": job_id, "user": user, "request": request[:300], "ok": ok, "at": now}))
        pipe.ltrim(redis_keys.tool_served(name), 0, SERVED_KEPT - 1)
        pipe.execute()

    def usage(self, name: str) -> Usage:
        raw = {k.decode(): v.decode() for k, v in self.conn.hgetall(redis_keys.tool_usage(name)).items()}
        return Usage(int(raw.get("uses", 0)), int(raw.get("successes", 0)), int(raw.get("failures", 0)),
                     *(float(raw[k]) if k in raw else None for k in ("last_use", "last_success", "last_failure")))

    def served(self, name: str) -> list[dict]:
        return [json.loads(r) for r in self.conn.lrange(redis_keys.tool_served(name), 0, -1)]

    def is_stale(self, name: str, created_at: float) -> bool:
        """Unused (or never used since it was made) for longer than the stale period."""
        last = self.usage(name).last_use or created_at
        return time.time() - last > self.stale_after

    def retired_among(self, names: list[str]) -> set[str]:
        """Which of these tools are retired, in one round trip."""
        flags = self.conn.mget([redis_keys.tool_retired(n) for n in names]) if names else []
        return {name for name, flag in zip(names, flags, strict=True) if flag}

    def last_uses(self, names: list[str]) -> dict[str, float | None]:
        pipe = self.conn.pipeline(transaction=False)
        for name in names:
            pipe.hget(redis_keys.tool_usage(name), "last_use")
        return {n: float(v) if v else None for n, v in zip(names, pipe.execute(), strict=True)}

    def served_texts(self, names: list[str], newest: int = 10) -> dict[str, list[str]]:
        """The requests each tool served lately: retrieval learns from them."""
        pipe = self.conn.pipeline(transaction=False)
        for name in names:
            pipe.lrange(redis_keys.tool_served(name), 0, newest - 1)
        return {n: [json.loads(r)["request"] for r in rows] for n, rows in zip(names, pipe.execute(), strict=True)}

    def retired(self, name: str) -> dict | None:
        raw = self.conn.get(redis_keys.tool_retired(name))
        return json.loads(raw) if raw else None

    def retire(self, name: str, by: str) -> None:
        entry = json.dumps({"action": "retired", "by": by, "at": time.time()})
        pipe = self.conn.pipeline()
        pipe.set(redis_keys.tool_retired(name), entry)
        pipe.rpush(redis_keys.tool_lifecycle(name), entry)
        pipe.execute()

    def unretire(self, name: str, by: str) -> None:
        pipe = self.conn.pipeline()
        pipe.delete(redis_keys.tool_retired(name))
        pipe.rpush(redis_keys.tool_lifecycle(name), json.dumps({"action": "unretired", "by": by, "at": time.time()}))
        pipe.execute()

    def lifecycle(self, name: str) -> list[dict]:
        return [json.loads(r) for r in self.conn.lrange(redis_keys.tool_lifecycle(name), 0, -1)]
