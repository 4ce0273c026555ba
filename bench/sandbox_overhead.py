"""What a sandboxed tool run costs, next to the plainest boto3 call, against the same moto server.

    .venv/bin/python bench/sandbox_overhead.py [--runs 15]

Prints the median and 90th percentile wall time of
  (1) `run_tool` of a tool that makes one AWS call (ec2:DescribeRegions) through the broker, in each
      sandbox mode this host has (bubblewrap; no user namespaces; off), process start to result;
  (2) `python -c 'import boto3; boto3.client("ec2").describe_regions()'` as a fresh process.
The goal is (1) with bubblewrap <= 0.5 x (2): the sandboxed process imports no boto3 and no service model.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.broker import Broker, BrokerConfig  # noqa: E402
from workers.sandbox import run_tool  # noqa: E402
from workers.sandbox_launch import SandboxOptions, probe  # noqa: E402
from workers.simulated_aws import SimulatedAWS  # noqa: E402

TOOL = '''
def run(ctx):
    return {"summary": "regions", "regions": len(ctx.client("ec2").describe_regions()["Regions"])}
'''
BOTO3_CALL = 'import boto3; boto3.client("ec2").describe_regions()'


def timed(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm caches (probe, moto's first request) outside the figures
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return seconds


def figures(seconds: list[float]) -> str:
    p90 = statistics.quantiles(seconds, n=10)[-1]
    return f"median {statistics.median(seconds) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    logging.getLogger("workers").setLevel(logging.ERROR)  # `off` warns on every run; the figures are the point
    with SimulatedAWS() as aws, tempfile.TemporaryDirectory() as scratch:
        tool = Path(scratch) / "one_call.py"
        tool.write_text(TOOL)
        broker = Broker(BrokerConfig(region="us-east-1", endpoint_url=aws.endpoint_url, credentials=aws.credentials))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ENDPOINT_URL": aws.endpoint_url,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
               "HOME": scratch}
        plain = timed(lambda: subprocess.run([sys.executable, "-c", BOTO3_CALL], env=env, check=True), runs)
        print(f"host: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {runs} runs each")
        print(f"(2) python -c 'import boto3 ...describe_regions()'       {figures(plain)}")
        modes = {"bubblewrap": SandboxOptions(), "no user namespaces": SandboxOptions(bubblewrap=False),
                 "off": SandboxOptions(enabled=False)}
        for label, options in modes.items():
            if label == "bubblewrap" and not probe(options).bwrap:
                print("(1) bubblewrap: not available on this host")
                continue

            def one_run(options: SandboxOptions = options) -> None:
                with tempfile.TemporaryDirectory() as out:
                    result = run_tool(tool, "one_call", params={}, output_dir=Path(out), broker=broker,
                                      sandbox=options)
                    assert result.ok, result.error

            sandboxed = timed(one_run, runs)
            ratio = statistics.median(sandboxed) / statistics.median(plain)
            print(f"(1) run_tool, sandbox {label:<20} {figures(sandboxed)}   = {ratio:.2f} x (2)")


if __name__ == "__main__":
    main()
