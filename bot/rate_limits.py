"""Per-user and per-channel request limits, so a burst is answered politely instead of flooding the queue.

Each subject keeps a sliding log of its request times in a sorted set (`auditbot:rate:<surface>:user:<id>`,
`auditbot:rate:<surface>:channel:<id>`; see `workers.redis_keys`). One Lua script drops times older than
the window, checks both counts and records the request in both logs only when both allow it, so the
check is atomic across any number of web processes and a refused request costs no quota. A limit of 0
means no limit.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import redis

from workers import redis_keys
from workers.settings import Settings

_SLIDING_WINDOW = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local limits = {tonumber(ARGV[3]), tonumber(ARGV[4])}
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if limits[i] > 0 and redis.call('ZCARD', KEYS[i]) >= limits[i] then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    return {i, tostring(tonumber(oldest[2]) + window - now)}
  end
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], now, ARGV[5])
  redis.call('EXPIRE', KEYS[i], window)
end
return {0, '0'}
"""


@dataclass(frozen=True)
class Throttled:
    """Why a request was refused: which limit, and when the oldest counted request leaves the window."""

    scope: str
    limit: int
    window_seconds: int
    retry_after: float


@dataclass(frozen=True)
class RateLimiter:
    conn: redis.Redis
    per_user: int
    per_channel: int
    window_seconds: int

    @classmethod
    def from_settings(cls, conn: redis.Redis, settings: Settings) -> RateLimiter:
        return cls(conn, settings.auditbot_user_requests_per_window, settings.auditbot_channel_requests_per_window,
                   settings.auditbot_rate_window_seconds)

    def hit(self, surface: str, user: str, channel: str) -> Throttled | None:
        """Count one request, or refuse it (and count nothing) when either limit is reached."""
        if not self.per_user and not self.per_channel:
            return None
        keys = [redis_keys.rate(surface, "user", user), redis_keys.rate(surface, "channel", channel)]
        which, retry = self.conn.eval(_SLIDING_WINDOW, 2, *keys, time.time(), self.window_seconds, self.per_user,
                                      self.per_channel, uuid.uuid4().hex)
        if not which:
            return None
        scope, limit = ("user", self.per_user) if int(which) == 1 else ("channel", self.per_channel)
        return Throttled(scope, limit, self.window_seconds, float(retry))
