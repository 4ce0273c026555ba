"""How soon does Cancel stop a running tool, and say so in the thread?

The real `auditbot web` and `auditbot worker --burst` as processes, Redis, moto, and loopback Slack and Claude.
Each round queues a request whose tool starts a helper process and sleeps for two minutes, waits until the
helper runs, clicks Cancel on the status message (a signed `block_actions` request), and measures from the
click to: the helper process gone, the thread's "was cancelled" message, the worker's exit.
The goal is "within seconds". The Redis database given is flushed first and last: give it one of your own.

    .venv/bin/python bench/slack_cancel.py --redis-url redis://127.0.0.1:6379/13 [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import BOT_TOKEN, SIGNING_SECRET, WebApp, wait_until  # noqa: E402
from tests.security.processes import running_with  # noqa: E402
from tests.standins.slack_api import SlackAPIStandin  # noqa: E402
from workers.registry import Registry  # noqa: E402
from workers.scripted_claude import ScriptedClaude, tool_use  # noqa: E402
from workers.simulated_aws import SimulatedAWS  # noqa: E402

TOOL = '''"""Wait on purpose: a tool that would run for two minutes and starts a helper process."""
import subprocess
import time

PARAMETERS = {{"type": "object", "properties": {{}}}}


def run(ctx):
    subprocess.Popen(["sleep", "{marker}"])
    ctx.progress("waiting")
    time.sleep(120)
    return {{"summary": "waited"}}
'''


def one_round(web: WebApp, slack: SlackAPIStandin, claude: ScriptedClaude, marker: str, n: int) -> tuple[float, ...]:
    claude.enqueue(tool_use("slow_probe", {}))
    root = f"1700000000.{n:06d}"
    web.event({"type": "app_mention", "user": "UBENCH", "text": "<@UBOT> probe", "ts": root, "channel": "C1"},
              event_id=f"EvBench{n}")
    status = slack.wait_for("chat.postMessage", predicate=lambda c: c.args.get("thread_ts") == root
                            and "Working on it" in c.args.get("text", ""))[0]
    job_id = next(e["value"] for b in status.args["blocks"] for e in b.get("elements") or []
                  if e.get("action_id") == "job_cancel")
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker", "--burst"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    wait_until(lambda: running_with(marker), timeout=120, interval=0.05)
    clicked = time.monotonic()
    web.click("job_cancel", job_id, user="UBENCH", message_ts=status.response["ts"], thread_ts=root)
    wait_until(lambda: not running_with(marker), timeout=30, interval=0.02)
    gone = time.monotonic() - clicked
    slack.wait_for("chat.postMessage", timeout=30, predicate=lambda c: c.args.get("thread_ts") == root
                   and "was cancelled" in c.args.get("text", ""))
    told = time.monotonic() - clicked
    worker.wait(timeout=60)
    return gone, told, time.monotonic() - clicked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    conn = redis.Redis.from_url(args.redis_url)
    conn.flushdb()
    marker = str(uuid.uuid4().int % 10**9 + 10**9)
    with tempfile.TemporaryDirectory(prefix="auditbot-bench-") as tmp, SlackAPIStandin(bot_token=BOT_TOKEN) as slack, \
            ScriptedClaude() as claude, SimulatedAWS() as aws:
        env = {"REDIS_URL": args.redis_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": slack.base_url, "ANTHROPIC_BASE_URL": claude.base_url,
               "ANTHROPIC_API_KEY": "sk-ant-bench-0123456789", "AUDITBOT_MODEL": "claude-bench",
               "AWS_ENDPOINT_URL": aws.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
               "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
               "AUDITBOT_EVIDENCE_DIR": f"{tmp}/evidence", "AUDITBOT_DATA_DIR": f"{tmp}/data",
               "AUDITBOT_USER_REQUESTS_PER_WINDOW": "0"}
        os.environ.update(env)
        os.chdir(tmp)
        Registry(conn, Path(tmp) / "data").add_version("slow_probe", TOOL.format(marker=marker), parent=None,
                                                       approver="UAPPROVER")
        web = WebApp(env)
        try:
            rounds = [one_round(web, slack, claude, marker, n) for n in range(args.rounds)]
        finally:
            web.stop()
    conn.flushdb()
    print("| click → tool processes gone (s) | click → thread says cancelled (s) | click → worker exited (s) |")
    print("| ---: | ---: | ---: |")
    for gone, told, exited in rounds:
        print(f"| {gone:.2f} | {told:.2f} | {exited:.2f} |")
    medians = [statistics.median(column) for column in zip(*rounds, strict=True)]
    print("| median {:.2f} | median {:.2f} | median {:.2f} |".format(*medians))


if __name__ == "__main__":
    main()
