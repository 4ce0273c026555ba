"""Run a version's `selftest(ctx)` in the sandbox against simulated AWS, before any approval.

Simulated AWS is a moto server in a process of its own, started on first use by this worker and
reset before every selftest, so one tool's test data never leaks into another's (nor into a chat
session's demo estate). Writes are allowed here only.
"""

from __future__ import annotations

import atexit
import tempfile
import threading
from pathlib import Path
from typing import Any

from workers.broker import Broker, BrokerConfig
from workers.registry import Registry, ToolVersion
from workers.sandbox import run_tool
from workers.simulated_aws import SimulatedAWSProcess

SELFTEST_TIMEOUT = 120.0
SELFTEST_REGION = "us-east-1"


class Selftester:
    """Callable: version -> {"ok", "error", "calls", "seconds"}."""

    _lock = threading.Lock()
    _simulated: SimulatedAWSProcess | None = None

    def __init__(self, registry: Registry, console_url: str = "https://console.aws.amazon.com/") -> None:
        self.registry = registry
        self.console_url = console_url

    @classmethod
    def simulated_aws(cls) -> SimulatedAWSProcess:
        with cls._lock:
            if cls._simulated is None:
                cls._simulated = SimulatedAWSProcess()
                cls._simulated.start()
                atexit.register(cls._simulated.stop)  # the moto process must not outlive its worker
            return cls._simulated

    def __call__(self, version: ToolVersion) -> dict[str, Any]:
        simulated = self.simulated_aws()
        with self._lock:
            simulated.reset()
            broker = Broker(BrokerConfig(region=SELFTEST_REGION, endpoint_url=simulated.endpoint_url,
                                         credentials=simulated.credentials, allow_writes=True))
            path = self.registry.materialise(version)
            with tempfile.TemporaryDirectory(prefix="auditbot-selftest-") as scratch:
                run = run_tool(path, version.name, function="selftest", params={}, output_dir=Path(scratch),
                               broker=broker, timeout=SELFTEST_TIMEOUT, console_url=self.console_url,
                               code_sha256=version.sha256)
        seconds = (run.ended_at - run.started_at).total_seconds()
        result: dict[str, Any] = {"ok": run.ok, "calls": len(run.calls), "seconds": round(seconds, 2)}
        if not run.ok:
            result["error"] = run.error or "selftest failed"
        return result
