"""How fast does `auditbot web` ack a Slack event, next to a bare Bolt app that only acks?

Posts N signed app_mention events at concurrency C to both servers in the same run (each a real
process on loopback, auditbot with real Redis and a loopback Slack Web API), and prints p50/p99 of
the HTTP round trip and the ratio. Goal: auditbot p99 <= 1.5x the bare app's and under 100 ms.

The Teams column posts N personal-chat message activities, each with its own RS256 JWT, to the same
auditbot process at `/api/messages` (Teams on, loopback JWKS, token endpoint and Bot Connector).
Warm-up requests fill the key cache first. Goal: p99 <= 100 ms with keys cached.

    .venv/bin/python bench/ack_latency.py [--events 500] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.standins.slack_api import SlackAPIStandin  # noqa: E402
from tests.standins.teams_connector import BotConnectorStandin  # noqa: E402
from tests.standins.teams_identity import TeamsIdentityStandin  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
REDIS_DB = int(os.environ.get("AUDITBOT_BENCH_REDIS_DB", "14"))
TEAMS_APP_ID = "5f3c1b8e-7d2a-4c61-9e0f-2b7a4d9c1e01"
TEAMS_PASSWORD = "bench-teams-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def event_body(n: int, run: str) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": f"Ev{run}{n}",
                       "event_time": int(time.time()),
                       "authorizations": [{"user_id": "UBOT", "team_id": "T1", "is_bot": True}],
                       "event": {"type": "app_mention", "user": f"UBENCH{n}", "channel": f"C{n % 50}",
                                 "ts": f"{n}.0001",
                                 "text": "<@UBOT> List IAM users without MFA"}})


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env={**os.environ, **env, "PORT": str(port)}, cwd=tempfile.gettempdir())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server did not start: {command}")


def slack_request(n: int, run: str) -> tuple[str, dict[str, str]]:
    body = event_body(n, run)
    return body, signed(body)


def teams_requests(identity: TeamsIdentityStandin, service_url: str) -> Callable[[int, str], tuple[str, dict]]:
    """Personal-chat messages as Teams sends them, each with a freshly signed JWT (keys stay cached)."""
    def make(n: int, run: str) -> tuple[str, dict[str, str]]:
        body = json.dumps({
            "type": "message", "id": f"{run}-{n}", "serviceUrl": service_url, "channelId": "msteams",
            "from": {"id": f"29:bench-{n}", "name": "Bench", "aadObjectId": f"aad-bench-{n}"},
            "conversation": {"id": f"a:bench-{run}-{n}", "conversationType": "personal", "tenantId": "t1"},
            "recipient": {"id": f"28:{TEAMS_APP_ID}", "name": "auditbot"},
            "text": "List IAM users without MFA"})
        return body, {"Content-Type": "application/json",
                      "Authorization": f"Bearer {identity.activity_token(service_url)}"}
    return make


async def load(url: str, events: int, concurrency: int, run: str,
               make: Callable[[int, str], tuple[str, dict[str, str]]] = slack_request) -> list[float]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    prepared = [make(n, run) for n in range(events)]  # signing (RS256 for Teams) stays out of the timings
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=concurrency)) as client:
        async def one(n: int) -> None:
            body, headers = prepared[n]
            async with gate:
                started = time.perf_counter()
                reply = await client.post(url, content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if reply.status_code != 200:
                    raise SystemExit(f"{url} answered {reply.status_code}")
        await asyncio.gather(*(one(n) for n in range(events)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    conn = redis.Redis(db=REDIS_DB)
    conn.flushdb()
    with SlackAPIStandin() as slack, tempfile.TemporaryDirectory() as scratch, \
            TeamsIdentityStandin(TEAMS_APP_ID, TEAMS_PASSWORD) as identity, \
            BotConnectorStandin(identity.accepts) as connector:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
               "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}", "AUDITBOT_DATA_DIR": scratch,
               "TEAMS_APP_ID": TEAMS_APP_ID, "TEAMS_APP_PASSWORD": TEAMS_PASSWORD,
               "TEAMS_OPENID_METADATA_URL": identity.metadata_url, "TEAMS_TOKEN_URL": identity.token_url,
               "TEAMS_SERVICE_URL_HOSTS": "127.0.0.1"}
        ports = {"bare Bolt app": free_port(), "auditbot web": free_port()}
        servers = [
            start([sys.executable, str(ROOT / "bench" / "bare_bolt_app.py"), str(ports["bare Bolt app"])], env,
                  ports["bare Bolt app"]),
            start([sys.executable, "-m", "bot", "web", "--host", "127.0.0.1"], env, ports["auditbot web"]),
        ]
        try:
            results = {}
            for name, port in ports.items():
                url = f"http://127.0.0.1:{port}/slack/events"
                asyncio.run(load(url, 20, args.concurrency, f"warm{name[0]}"))
                results[name] = asyncio.run(load(url, args.events, args.concurrency, name[0]))
            teams_url = f"http://127.0.0.1:{ports['auditbot web']}/api/messages"
            make = teams_requests(identity, connector.service_url)
            asyncio.run(load(teams_url, 20, args.concurrency, "warmT", make))
            results["auditbot Teams"] = asyncio.run(load(teams_url, args.events, args.concurrency, "T", make))
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
            conn.flushdb()
    print(f"{args.events} signed app_mention events (and as many signed Teams messages), "
          f"concurrency {args.concurrency}, loopback, {os.cpu_count()} cores")
    print(f"{'server':<16}{'p50 ms':>10}{'p99 ms':>10}")
    for name, values in results.items():
        print(f"{name:<16}{percentile(values, 50):>10.1f}{percentile(values, 99):>10.1f}")
    ratio = percentile(results["auditbot web"], 99) / percentile(results["bare Bolt app"], 99)
    print(f"p99 ratio auditbot/bare: {ratio:.2f} (goal <= 1.5, and auditbot p99 < 100 ms)")
    print(f"Teams p99: {percentile(results['auditbot Teams'], 99):.1f} ms (goal <= 100 ms, keys cached; "
          f"{identity.counts['keys']} JWKS fetch(es) in the run)")


if __name__ == "__main__":
    main()
