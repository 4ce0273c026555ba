"""`auditbot web`: one ASGI app for Slack's events, commands and clicks, plus a health check.

With `TEAMS_APP_ID` set it also serves Teams (`POST /api/messages`) and signed evidence downloads
(`GET /evidence/...`), in the same process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import redis
import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.intake import Intake
from bot.services import redis_connection
from bot.slack_app import build_slack_app
from workers.approvals import ApprovalDesk
from workers.registry import Registry
from workers.settings import Settings


def build_web_app(settings: Settings) -> Starlette:
    conn = redis_connection(settings)
    registry = Registry(conn, settings.auditbot_data_dir)
    intake, desk = Intake(conn), ApprovalDesk(conn, registry, settings)
    bolt = build_slack_app(settings, intake, desk)
    slack = AsyncSlackRequestHandler(bolt)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        """One pooled HTTP session for every Slack Web API call: without it each call opens (and closes) its
        own connection, and that work delays the next request's ack (bench/ack_latency.py)."""
        async with aiohttp.ClientSession() as session:
            bolt.client.session = session
            yield

    async def slack_events(request: Request) -> Response:
        return await slack.handle(request)

    async def healthz(_: Request) -> Response:
        try:
            await asyncio.to_thread(conn.ping)
        except redis.RedisError as exc:
            return JSONResponse({"status": "unavailable", "redis": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ok", "redis": "ok"})

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if settings.teams_enabled:
        from bot.teams_app import teams_routes

        routes += teams_routes(settings, intake, desk)
    return Starlette(routes=routes, lifespan=lifespan)


def serve(settings: Settings, host: str = "0.0.0.0") -> None:
    uvicorn.run(build_web_app(settings), host=host, port=settings.port, log_level="warning", access_log=False)
