"""Peak memory and time of a 1,000,000-row table export, each step in a fresh process.

    .venv/bin/python bench/evidence_memory.py [--rows 1000000] [--skip-xlsx]

Steps, as a real run takes them:
- `import`: the baseline, a process that only imports what the steps use;
- `csv+json`: `ctx.save_table` in the tool's process, rows from a generator, to CSV and JSON;
- `xlsx`: the same rows to XLSX (openpyxl's write-only mode);
- `pdf`: the worker's PDF from that CSV (cover, first rows, "this PDF is a summary");
- `list`: for comparison, the same rows only held in a Python list, as a tool that collects first does;
- `sandboxed`: the whole path of a run: a tool in the sandboxed process streams the rows to CSV and JSON
  with `ctx.save_table`, and the worker collects its files. Shown as `+W/T`: how far the run raised the
  worker's peak (its moto and imports excluded) and the max RSS of the tool's process tree.
Peak memory is the process's maximum resident set (ru_maxrss), interpreter and imports included;
the file sizes show what was written.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers import reports  # noqa: E402 - after the path is set
from workers.report_pdf import Cover, render_table_pdf  # noqa: E402

EVENTS = ("ConsoleLogin", "AssumeRole", "GetObject", "PutObject", "DescribeInstances", "CreateUser")
USERS = ("alice", "bob", "carol", "deploy-bot", "ci-runner")


def rows(count: int):
    """CloudTrail-like events: a mix of short fields and one nested list, as tools export them."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(count):
        yield {"EventId": f"{n:08x}-0000-4000-8000-{n:012x}", "EventTime": start + timedelta(seconds=n * 3),
               "EventName": EVENTS[n % len(EVENTS)], "Username": USERS[n % len(USERS)],
               "SourceIPAddress": f"10.{n % 256}.{(n // 256) % 256}.{n % 7}", "ReadOnly": n % 3 != 0,
               "Resources": [{"ResourceType": "AWS::S3::Object", "ResourceName": f"bucket/key-{n % 1000}"}]}


def step(name: str, count: int, folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    if name == "csv+json":
        reports.save_table(folder, "events", rows(count), formats=["csv", "json"], title="events")
    elif name == "xlsx":
        reports.save_table(folder, "events", rows(count), formats=["xlsx"], title="events")
    elif name == "pdf":
        cover = Cover(title="events", facts=[("Request", "bench")], data_files=[("events.csv", "0" * 64)],
                      footer="bench")
        render_table_pdf(folder / "events.pdf", folder / "events.csv", cover)
    elif name == "list":
        held = list(rows(count))
        assert len(held) == count
    elif name == "sandboxed":
        growth, children = sandboxed_run(count, folder)
    seconds = time.perf_counter() - started
    rss = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}"
    if name == "sandboxed":
        rss = f"+{growth / 1024:.1f}/{children / 1024:.1f}"
    return {"step": name, "seconds": round(seconds, 1), "max_rss_mib": rss}


TOOL = '''"""Export N generated CloudTrail-like rows as CSV and JSON (bench only)."""

from datetime import UTC, datetime, timedelta

PARAMETERS = {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]}


def run(ctx, count):
    start = datetime(2025, 1, 1, tzinfo=UTC)

    def rows():
        for n in range(count):
            yield {"EventId": f"{n:08x}-0000-4000-8000-{n:012x}", "EventTime": start + timedelta(seconds=n * 3),
                   "EventName": "GetObject", "Username": "alice", "SourceIPAddress": f"10.0.{n % 256}.{n % 7}",
                   "ReadOnly": n % 3 != 0, "Resources": [{"ResourceName": f"bucket/key-{n % 1000}"}]}

    table = ctx.save_table("sandboxed_events", rows(), formats=["csv", "json"])
    return {"summary": f"{table['rows']} rows"}
'''


def sandboxed_run(count: int, folder: Path) -> tuple[int, int]:
    """One real run through `run_tool`; return how far it raised this process's peak RSS and the tool's
    process tree's max RSS (KiB)."""
    from workers.broker import Broker, BrokerConfig
    from workers.sandbox import run_tool
    from workers.simulated_aws import FAKE_CREDENTIALS, SimulatedAWS

    tool = folder / "bench_export.py"
    tool.write_text(TOOL)
    with SimulatedAWS() as aws:
        broker = Broker(BrokerConfig(region="us-east-1", endpoint_url=aws.endpoint_url, credentials=FAKE_CREDENTIALS))
        assert broker.account_id
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run = run_tool(tool, "bench_export", params={"count": count}, output_dir=folder / "sandboxed",
                       broker=broker, timeout=3600)
    assert run.ok, run.error
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return growth, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(step(args.step, args.rows, args.folder)))
        return 0
    steps = ["import", "csv+json", *([] if args.skip_xlsx else ["xlsx"]), "pdf", "list", "sandboxed"]
    with tempfile.TemporaryDirectory(prefix="auditbot-bench-") as folder:
        print(f"{args.rows:,} rows; each step in a fresh process")
        print(f"{'step':<10} {'seconds':>8} {'max RSS MiB':>14}")
        for name in steps:
            out = subprocess.run([sys.executable, __file__, "--step", name, "--rows", str(args.rows),
                                  "--folder", folder], capture_output=True, text=True, check=True).stdout
            result = json.loads(out)
            print(f"{name:<10} {result['seconds']:>8} {result['max_rss_mib']:>14}")
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.suffix != ".py"):
            print(f"  {path.name}: {path.stat().st_size / 2**20:,.1f} MiB")
        pdf = Path(folder) / "events.pdf"
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                              check=False).stdout
        print("  PDF page 1 says: " + " ".join(line for line in text.splitlines() if "summary" in line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
