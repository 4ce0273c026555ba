"""How long do the App Home and `/audit evidence` take to build for a large library and evidence store?

Both are computed before Slack's 3-second ack (`/audit`) or on every tab visit (Home), so they must stay
well under a second. Registers T approved tools with usage counters, P pending approvals and J jobs for
one user in Redis, writes E evidence folders (half of them stale) with the real evidence writer, then
times `home_view` cold (every manifest parsed) and warm (mtime cache), and `/audit evidence 20`.
Prints one row per size. The Redis database given is flushed first and last: give it one of your own.

    .venv/bin/python bench/slack_home.py --redis-url redis://127.0.0.1:6379/13 [--evidence 1000 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.intake import Intake  # noqa: E402
from bot.slack_commands import evidence  # noqa: E402
from bot.slack_home import home_view  # noqa: E402
from bot.slack_queries import Lookups  # noqa: E402
from workers import redis_keys  # noqa: E402
from workers.approvals import ApprovalDesk  # noqa: E402
from workers.conversation import ThreadRef  # noqa: E402
from workers.evidence import JobEvidence  # noqa: E402
from workers.job_state import JobState  # noqa: E402
from workers.registry import Registry  # noqa: E402
from workers.settings import load_settings  # noqa: E402
from workers.tool_usage import ToolUsage  # noqa: E402

TOOL = '''"""Report number {n}."""

PARAMETERS = {{"type": "object", "properties": {{}}}}


def run(ctx):
    return {{"summary": "none"}}
'''
USER = "UBENCH"


def seed(conn: redis.Redis, root: Path, data: Path, tools: int, jobs: int, folders: int) -> None:
    registry, usage = Registry(conn, data), ToolUsage(conn)
    for n in range(tools):
        registry.add_version(f"report_{n:04d}", TOOL.format(n=n), parent=None, approver="UAPPROVER")
        usage.record(f"report_{n:04d}", ok=True, job_id="j", user=USER, request="bench")
    intake = Intake(conn)
    for n in range(jobs):
        job = JobState(id=f"20250101T0000{n % 100:02d}-{n:08x}", request=f"bench request {n}",
                       thread=ThreadRef("slack", "C1", f"1700000000.{n:06d}", USER), status="done")
        intake.jobs.save(job)
        conn.zadd(redis_keys.user_jobs("slack", USER), {job.id: time.time() - n})
    scratch = data / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    for n in range(folders):
        when = now - timedelta(days=(400 + n % 300) if n % 2 else n % 300)
        job_id = f"{when:%Y%m%dT%H%M%S}-{n:08x}"
        evidence = JobEvidence.open(root, job_id, when, 1, header={"job": job_id, "request": {"text": f"e{n}"}})
        produced = scratch / f"{job_id}.json"
        produced.write_text('{"items": []}')
        evidence.add_run({"tool": f"report_{n % max(tools, 1):04d}", "version": 1, "params": {},
                          "started": when.isoformat(), "ended": when.isoformat(), "api_calls": []}, [produced])
        evidence.finish()


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def measure(conn: redis.Redis, data: Path, tools: int, folders: int, seeding: float) -> str:
    """One table row: the Home view cold and warm, and `/audit evidence 20`, for what `seed` wrote."""
    settings = load_settings()
    lookups = Lookups(settings, Intake(conn), ApprovalDesk(conn, Registry(conn, data), settings))
    workspace = "https://bench.slack.com/"
    cold = timed(lambda: home_view(lookups, USER, workspace))
    warm = timed(lambda: home_view(lookups, USER, workspace))
    listing = timed(lambda: evidence(lookups, ["20"], workspace))
    blocks = len(home_view(lookups, USER, workspace)["blocks"])
    return f"| {tools} | {folders} | {seeding:.0f} | {cold:.0f} | {warm:.0f} | {listing:.0f} | {blocks} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--tools", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--evidence", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    conn = redis.Redis.from_url(args.redis_url)
    print("| tools | evidence folders | seed s | home cold ms | home warm ms | /audit evidence 20 ms | blocks |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for folders in args.evidence:
        conn.flushdb()
        with tempfile.TemporaryDirectory(prefix="auditbot-bench-") as tmp:
            root, data = Path(tmp) / "evidence", Path(tmp) / "data"
            os.environ.update({"REDIS_URL": args.redis_url, "AUDITBOT_EVIDENCE_DIR": str(root),
                               "AUDITBOT_DATA_DIR": str(data), "AUDITBOT_APPROVERS": USER})
            started = time.perf_counter()
            seed(conn, root, data, args.tools, args.jobs, folders)
            seeding = time.perf_counter() - started
            print(measure(conn, data, args.tools, folders, seeding))
    conn.flushdb()


if __name__ == "__main__":
    main()
