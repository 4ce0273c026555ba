"""How fast does `auditbot web` ack a Slack event, next to a bare Bolt app that only acks?

Posts N signed app_mention events at concurrency C to both servers in the same run (each a real
process on loopback, auditbot with real Redis and a loopback Slack Web API), and prints p50/p99 of
the HTTP round trip and the ratio. Goal: auditbot p99 <= 1.5x the bare app's and under 100 ms.

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
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.standins.slack_api import SlackAPIStandin  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
REDIS_DB = int(os.environ.get("AUDITBOT_BENCH_REDIS_DB", "14"))


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
                       "event": {"type": "app_mention", "user": "UBENCH", "channel": "C1", "ts": f"{n}.0001",
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


async def load(url: str, events: int, concurrency: int, run: str) -> list[float]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=concurrency)) as client:
        async def one(n: int) -> None:
            body = event_body(n, run)
            async with gate:
                started = time.perf_counter()
                reply = await client.post(url, content=body, headers=signed(body))
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
    with SlackAPIStandin() as slack, tempfile.TemporaryDirectory() as scratch:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": slack.base_url,
               "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}", "AUDITBOT_DATA_DIR": scratch}
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
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
            conn.flushdb()
    print(f"{args.events} signed app_mention events, concurrency {args.concurrency}, loopback, {os.cpu_count()} cores")
    print(f"{'server':<16}{'p50 ms':>10}{'p99 ms':>10}")
    for name, values in results.items():
        print(f"{name:<16}{percentile(values, 50):>10.1f}{percentile(values, 99):>10.1f}")
    ratio = percentile(results["auditbot web"], 99) / percentile(results["bare Bolt app"], 99)
    print(f"p99 ratio auditbot/bare: {ratio:.2f} (goal <= 1.5, and auditbot p99 < 100 ms)")


if __name__ == "__main__":
    main()
