"""Evidence fixtures: the real executor (registry in Redis, broker on moto, sandboxed tool processes).

`collect(tool, **params)` runs an approved tool exactly as a job does and returns its outcome and the
job's `JobEvidence`; `approve(name, source)` registers an approved version for a test's own tool.
Tests that write to S3 use `isolated_aws`, a moto process of their own, so the seeded estate that
other tests read is never changed.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from rich.console import Console

from bot.terminal_conversation import TerminalConversation
from tests.conftest import APPROVER, REQUESTER, ROOT
from workers.console_standin import ConsoleStandin
from workers.conversation import ThreadRef
from workers.evidence import JobEvidence
from workers.evidence_config import evidence_parts
from workers.evidence_window import iso
from workers.execution import Outcome, ToolExecutor
from workers.registry import Registry
from workers.settings import Settings, load_settings
from workers.simulated_aws import SimulatedAWS, SimulatedAWSProcess

REQUEST = "Export CloudWatch log group prod-app-logs for the last 7 days"


@pytest.fixture(scope="package")
def isolated_aws() -> Iterator[SimulatedAWSProcess]:
    with SimulatedAWSProcess() as simulated:
        yield simulated


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def settings(tmp_path: Path, aws: SimulatedAWS, console_site: ConsoleStandin, redis_url: str,
             aws_keys: None) -> Settings:
    return load_settings(
        aws_endpoint_url=aws.endpoint_url, aws_region="us-east-1", redis_url=redis_url,
        auditbot_evidence_dir=tmp_path / "evidence", auditbot_data_dir=tmp_path / "data",
        auditbot_console_url=console_site.console_url, auditbot_console_signin_url=console_site.signin_url,
    )


def job_header(job_id: str = "job-1") -> dict[str, Any]:
    now = iso(datetime.now(UTC))
    return {"job": job_id, "model": "claude-test-model", "collection": {"started": now},
            "request": {"text": REQUEST, "user": REQUESTER, "channel": "C1", "thread": "1.1", "surface": "slack",
                        "time": now}}


def open_evidence(settings: Settings, job_id: str = "job-1", **parts: Any) -> JobEvidence:
    return JobEvidence.open(settings.auditbot_evidence_dir, job_id, datetime.now(UTC),
                            settings.auditbot_fiscal_year_start_month, job_header(job_id),
                            **{**evidence_parts(settings), **parts})


@dataclass
class Collector:
    """One job's executor, as the agent builds it."""

    registry: Registry
    evidence: JobEvidence
    executor: ToolExecutor
    conversation: TerminalConversation

    def __call__(self, tool: str, **params: Any) -> Outcome:
        version = self.registry.current(tool)
        assert version is not None, f"{tool} is not approved"
        return self.executor.run(version, params)

    def approve(self, name: str, source: str) -> None:
        self.registry.add_version(name, source, parent=None, approver=APPROVER)

    @property
    def manifest(self) -> dict[str, Any]:
        return self.evidence.manifest


def make_collector(settings: Settings, conn: redis.Redis) -> Collector:
    registry = Registry(conn, settings.auditbot_data_dir)
    registry.sync_builtins()
    evidence = open_evidence(settings)
    conversation = TerminalConversation(ThreadRef("terminal", "t", "1.1", REQUESTER), lambda *_: None,
                                        lambda _: False, Console(file=io.StringIO()))
    return Collector(registry, evidence, ToolExecutor(settings, registry, evidence, conversation), conversation)


@pytest.fixture
def collect(settings: Settings, conn: redis.Redis) -> Collector:
    return make_collector(settings, conn)


@pytest.fixture
def auditbot_cli(settings: Settings) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`auditbot ARGS...` as a real process, configured like the test's worker."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(settings.auditbot_data_dir), "PYTHONPATH": str(ROOT),
               "COLUMNS": "200",
               "AUDITBOT_DATA_DIR": str(settings.auditbot_data_dir),
               "AUDITBOT_EVIDENCE_DIR": str(settings.auditbot_evidence_dir),
               "AUDITBOT_EVIDENCE_KEY": str(settings.evidence_key_path)}
        return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=60)

    return run
