"""The attack suite's harness: each case is a tool run straight through `run_tool`, static checks bypassed.

Every run goes through the `attack` fixture, which asserts two of the three things each case must show:
nothing planted (worker secrets, `.env`, data dir, another tool's source, AWS credentials file, a Redis
key) reached the tool's result, error, progress or evidence files, and the simulated AWS estate is
unchanged. The case itself asserts the third: the attempt failed or came back empty.

Cases run twice: with bubblewrap, and with only the layers a host without user namespaces keeps
(unprivileged uid, Landlock, seccomp, rlimits). The planted files are world-readable, so in the second
mode it is Landlock, not file permissions, that keeps them out of reach.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import textwrap
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from workers.broker import Broker, BrokerConfig
from workers.sandbox import ToolRun, run_tool
from workers.sandbox_confine import Limits
from workers.sandbox_launch import SandboxOptions, probe
from workers.simulated_aws import SimulatedAWS

CANARY = f"canary{uuid.uuid4().hex}"
SLACK_TOKEN = f"xoxb-{CANARY}"
ANTHROPIC_KEY = f"sk-ant-{CANARY}"
AWS_SECRET = f"{CANARY}AWSSECRETKEY"
REDIS_KEY = "auditbot:test:security:canary"


@dataclass(frozen=True)
class Planted:
    """Where the worker's secrets are; tools get these paths as parameters, to try them."""

    root: Path
    env_file: Path
    credentials: Path
    data_dir: Path
    other_tool: Path


def aws_state(aws: SimulatedAWS) -> dict[str, Any]:
    """What the destructive attacks aim at, read with the test's own moto client."""
    s3, ec2 = aws.client("s3"), aws.client("ec2")
    buckets = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    policies = {}
    for bucket in buckets:
        try:
            policies[bucket] = s3.get_bucket_policy(Bucket=bucket)["Policy"]
        except s3.exceptions.ClientError:
            policies[bucket] = None
    reservations = ec2.describe_instances()["Reservations"]
    return {
        "buckets": buckets, "policies": policies,
        "instances": sorted((i["InstanceId"], i["State"]["Name"]) for r in reservations for i in r["Instances"]),
        "security_groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
        "users": sorted(u["UserName"] for u in aws.client("iam").list_users()["Users"]),
        "log_groups": sorted(g["logGroupName"] for g in aws.client("logs").describe_log_groups()["logGroups"]),
    }


def leak_surface(run: ToolRun) -> str:
    """Everything of a run that reaches Claude, the chat thread or the evidence folder."""
    files = "\n".join(f.read_bytes().decode("utf-8", "replace") for f in run.files)
    calls = json.dumps([c.to_dict() for c in run.calls])
    return "\n".join([json.dumps(run.value), run.error, *run.progress, files, calls])


@pytest.fixture(params=["bwrap", "no-userns"])
def sandbox(request: pytest.FixtureRequest) -> SandboxOptions:
    options = SandboxOptions(bubblewrap=request.param == "bwrap",
                             redact_values=(SLACK_TOKEN, ANTHROPIC_KEY, AWS_SECRET))
    if request.param == "bwrap" and not probe(options).bwrap:
        pytest.skip("bubblewrap cannot create namespaces on this host")
    return options


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch, conn: redis.Redis) -> Iterator[Planted]:
    """The worker's secrets, where a worker keeps them; world-readable, so only the sandbox protects them."""
    root = Path(tempfile.mkdtemp(prefix="auditbot-planted-"))
    root.chmod(0o755)
    planted = Planted(root, root / "worker" / ".env", root / "home" / ".aws" / "credentials", root / "data",
                      root / "data" / "tools" / "other_tool" / "v1-0123" / "other_tool.py")
    for path, text in ((planted.env_file, f"SLACK_BOT_TOKEN={SLACK_TOKEN}\n"),
                       (planted.credentials, f"[default]\naws_secret_access_key = {AWS_SECRET}\n"),
                       (planted.other_tool, f'"""Another tool."""\nAPI_KEY = "{CANARY}"\n')):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder, _, names in os.walk(root):
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)
    for name, value in (("SLACK_BOT_TOKEN", SLACK_TOKEN), ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
                        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET), ("HOME", str(root / "home")),
                        ("AUDITBOT_DATA_DIR", str(planted.data_dir))):
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(planted.env_file.parent)
    conn.set(REDIS_KEY, CANARY)
    yield planted
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def read_only_broker(aws: SimulatedAWS) -> Callable[[], Broker]:
    return lambda: Broker(BrokerConfig(region="us-east-1", endpoint_url=aws.endpoint_url,
                                       credentials=aws.credentials))


@pytest.fixture
def attack(sandbox: SandboxOptions, planted: Planted, aws: SimulatedAWS, conn: redis.Redis, tmp_path: Path,
           read_only_broker: Callable[[], Broker]) -> Callable[..., ToolRun]:
    """`attack(source, timeout=..., limits=..., console_url=..., **params)`: one run of an approved-as-is
    tool, checked for leaks and for changes to AWS. Its parameters always include the planted paths and
    the moto endpoint."""

    def run(source: str, *, timeout: float = 20, limits: Limits | None = None, tmpfs_bytes: int | None = None,
            console_url: str = "https://console.aws.amazon.com/", **params: Any) -> ToolRun:
        name = f"attack_{uuid.uuid4().hex[:8]}"
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        options = SandboxOptions(**{**sandbox.__dict__, **({"limits": limits} if limits else {}),
                                    **({"tmpfs_bytes": tmpfs_bytes} if tmpfs_bytes else {})})
        before = aws_state(aws)
        result = run_tool(path, name, params={**params, "paths": _paths(planted), "endpoint": aws.endpoint_url},
                          output_dir=tmp_path / "evidence" / name, broker=read_only_broker(), timeout=timeout,
                          console_url=console_url, sandbox=options)
        assert aws_state(aws) == before, "AWS changed"
        surface = leak_surface(result)
        assert CANARY not in surface, "a planted secret leaked"
        assert conn.get(REDIS_KEY) == CANARY.encode(), "Redis was reached"
        return result

    return run


def _paths(planted: Planted) -> dict[str, str]:
    return {"env_file": str(planted.env_file), "credentials": str(planted.credentials),
            "data_dir": str(planted.data_dir), "other_tool": str(planted.other_tool), "root": str(planted.root)}
