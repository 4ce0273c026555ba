"""Shared fixtures: real Redis, moto in server mode, and loopback stand-ins for Slack and Claude.

Everything runs for real over loopback; only Slack's and Anthropic's clouds are replaced, at the wire.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import redis
from rq import SimpleWorker

from bot.queueing import queue
from tests.standins.slack_api import SlackAPIStandin
from workers.console_standin import ConsoleStandin
from workers.scripted_claude import ScriptedClaude
from workers.simulated_aws import SimulatedAWS, seed_demo_data

TEST_DB = int(os.environ.get("AUDITBOT_TEST_REDIS_DB", "9"))
SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token-0123456789"
APPROVER = "UAPPROVER"
SECOND_APPROVER = "UAPPROVER2"
REQUESTER = "UREQUESTER"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_url() -> Iterator[str]:
    url = f"redis://127.0.0.1:6379/{TEST_DB}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()


@pytest.fixture
def conn(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


@pytest.fixture(scope="session")
def simulated_estate() -> Iterator[tuple[SimulatedAWS, dict]]:
    """One moto server for the whole session (moto's state is per process), seeded once."""
    with SimulatedAWS() as simulated:
        yield simulated, seed_demo_data(simulated)


@pytest.fixture(scope="session")
def aws(simulated_estate: tuple[SimulatedAWS, dict]) -> SimulatedAWS:
    return simulated_estate[0]


@pytest.fixture(scope="session")
def estate(simulated_estate: tuple[SimulatedAWS, dict]) -> dict:
    """What the seed made; tests only read it."""
    return simulated_estate[1]


@pytest.fixture(scope="session")
def console_site() -> Iterator[ConsoleStandin]:
    with ConsoleStandin() as site:
        yield site


@pytest.fixture
def claude() -> Iterator[ScriptedClaude]:
    with ScriptedClaude() as stand_in:
        yield stand_in


@pytest.fixture
def slack() -> Iterator[SlackAPIStandin]:
    with SlackAPIStandin(bot_token=BOT_TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str, aws: SimulatedAWS,
        claude: ScriptedClaude, slack: SlackAPIStandin, console_site: ConsoleStandin) -> dict[str, str]:
    """The product's configuration, pointing every SDK at its loopback stand-in."""
    values = {
        "REDIS_URL": redis_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.base_url,
        "ANTHROPIC_BASE_URL": claude.base_url,
        "ANTHROPIC_API_KEY": "sk-ant-test-key-0123456789",
        "AUDITBOT_MODEL": "claude-test-model",
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AUDITBOT_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "AUDITBOT_DATA_DIR": str(tmp_path / "data"),
        "AUDITBOT_APPROVERS": f"{APPROVER},{SECOND_APPROVER}",
        "AUDITBOT_CONSOLE_SIGNIN_URL": console_site.signin_url,
        "AUDITBOT_CONSOLE_URL": console_site.console_url,
    }
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


class WebApp:
    """`auditbot web` as a subprocess, driven by signed requests."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        child_env = {**os.environ, **env, "PORT": str(self.port)}
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "web", "--host", "127.0.0.1"], env=child_env,
                                        cwd=os.getcwd())
        self.client = httpx.Client(base_url=self.url, timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"auditbot web exited with {self.process.returncode}")
            try:
                self.client.get("/healthz")
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("auditbot web did not start")

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)

    def post_signed(self, body: str, content_type: str, *, secret: str = SIGNING_SECRET,
                    timestamp: int | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        return self.client.post("/slack/events", content=body.encode(), headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            **(headers or {})})

    def event(self, event: dict, *, event_id: str, **kwargs) -> httpx.Response:
        body = json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()), "event": event,
                           "authorizations": [{"user_id": "UBOT", "team_id": "T1", "is_bot": True}]})
        return self.post_signed(body, "application/json", **kwargs)

    def command(self, text: str, *, user: str = REQUESTER, channel: str = "C1") -> httpx.Response:
        body = urlencode({"command": "/audit", "text": text, "user_id": user, "channel_id": channel,
                          "team_id": "T1", "trigger_id": "trig", "response_url": "http://127.0.0.1:9/none"})
        return self.post_signed(body, "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, *, user: str, channel: str = "C1", message_ts: str = "1.1",
              thread_ts: str | None = None) -> httpx.Response:
        payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
                   "channel": {"id": channel}, "trigger_id": "trig", "container": {"type": "message"},
                   "message": {"ts": message_ts, "thread_ts": thread_ts or message_ts, "text": "card"},
                   "actions": [{"action_id": action_id, "value": value, "type": "button", "block_id": "tool_decision"}]}
        return self.post_signed(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


@pytest.fixture
def web(env: dict[str, str]) -> Iterator[WebApp]:
    app = WebApp(env)
    yield app
    app.stop()


def drain(conn: redis.Redis) -> None:
    """Run every queued job in this process with a real RQ worker, then return."""
    SimpleWorker([queue(conn)], connection=conn).work(burst=True)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")
