"""Wiring: the Redis connection, registry, approvals and Claude client a process uses."""

from __future__ import annotations

import anthropic
import redis

from workers.agent import Services
from workers.approvals import ApprovalDesk
from workers.job_state import JobStore
from workers.registry import Registry
from workers.selftest import Selftester
from workers.settings import Settings

LLM_RETRIES = 4


def redis_connection(settings: Settings) -> redis.Redis:
    """A connection that fails fast, so a Redis outage is reported instead of hanging a request."""
    return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=10,
                                health_check_interval=30)


def build_services(settings: Settings, conn: redis.Redis) -> Services:
    registry = Registry(conn, settings.auditbot_data_dir)
    registry.sync_builtins()
    return Services(
        settings=settings, conn=conn, registry=registry, jobs=JobStore(conn),
        approvals=ApprovalDesk(conn, registry, settings),
        llm=anthropic.Anthropic(max_retries=LLM_RETRIES),
        selftest=Selftester(registry, settings.auditbot_console_url),
    )
