"""The tool runtime end to end: real child processes, the real broker, moto in server mode."""

from __future__ import annotations

import json
import os
import textwrap
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.security.processes import gone_within
from workers import wire
from workers.broker import Broker, BrokerConfig
from workers.sandbox import ToolRun, run_tool

REGION = "us-east-1"
FAKE_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# The tool of the contract (design/contract.md), with its `...` written out.
CONTRACT_TOOL = '''
"""Export the events of a CloudWatch Logs log group over the last N days."""   # first line: the description
import time

PARAMETERS = {                     # JSON Schema of the arguments: the tool's input_schema for Claude
    "type": "object",
    "properties": {
        "log_group": {"type": "string", "description": "log group name"},
        "days": {"type": "integer", "default": 7, "minimum": 1},
        "format": {"type": "string", "enum": ["json", "csv", "pdf"], "default": "json"},
    },
    "required": ["log_group"],
}

def run(ctx, log_group, days=7, format="json"):
    logs = ctx.client("logs")                      # behaves as a boto3 client; the worker makes the calls
    ctx.progress(f"Reading {log_group} ...")       # a progress line in the chat thread
    start = int((time.time() - days * 86400) * 1000)
    events = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=log_group, startTime=start):
        events.extend(page["events"])
    path = ctx.save_json("cloudwatch_logs.json", {"events": events})   # evidence file
    return {"summary": f"Exported {len(events)} events", "events": len(events)}

def selftest(ctx):                 # optional: runs against simulated AWS before approval
    ctx.client("logs").create_log_group(logGroupName="g")   # writes are allowed only here
    result = run(ctx, log_group="g", days=1)
    assert result["events"] == 0
'''


@pytest.fixture
def aws(endpoint: str) -> Callable[[str], Any]:
    """A real boto3 client on moto, for the test's own setup and checks."""
    session = boto3.session.Session(region_name=REGION, **FAKE_KEYS)
    return lambda service: session.client(service, endpoint_url=endpoint)


def make_broker(endpoint: str, **options: Any) -> Broker:
    return Broker(BrokerConfig(region=REGION, endpoint_url=endpoint, credentials=FAKE_KEYS, **options))


@pytest.fixture
def run(tmp_path: Path, endpoint: str) -> Callable[..., ToolRun]:
    """Write a tool module and run one of its functions through `run_tool`."""

    def run_source(source: str, *, params: dict[str, Any] | None = None, broker: Broker | None = None,
                   **options: Any) -> ToolRun:
        name = f"tool_{uuid.uuid4().hex[:8]}"
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(source))
        return run_tool(path, name, params=params or {}, output_dir=tmp_path / "out" / name,
                        broker=broker or make_broker(endpoint), **options)

    return run_source


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_wire_round_trips_tagged_values() -> None:
    message = {"when": datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "body": b"\x00\xff", "cost": Decimal("1.50"),
               "plain": {"n": 1, "s": "x", "l": [None, True]}}
    line = wire.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert wire.decode(line) == message
    with pytest.raises(wire.WireError):
        wire.encode({"x": object()})
    with pytest.raises(wire.WireError):
        wire.encode({"x": "a" * 100}, max_bytes=50)


def test_contract_tool_exports_every_event_across_pages(run: Callable[..., ToolRun], aws: Any,
                                                        endpoint: str) -> None:
    group, logs = unique("audit"), aws("logs")
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    for stream, count in (("a", 6000), ("b", 4500)):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now - count + i, "message": f"{stream}{i}"} for i in range(count)])
    progress: list[str] = []

    result = run(CONTRACT_TOOL, params={"log_group": group, "days": 1}, on_progress=progress.append)

    assert result.ok, result.error
    assert result.value == {"summary": "Exported 10500 events", "events": 10500}
    assert progress == result.progress == [f"Reading {group} ..."]
    assert [f.name for f in result.files] == ["cloudwatch_logs.json"]
    events = json.loads(result.files[0].read_text())["events"]
    assert len({(e["logStreamName"], e["eventId"]) for e in events}) == 10500
    (record,) = result.calls
    assert (record.service, record.operation, record.region) == ("logs", "FilterLogEvents", REGION)
    assert record.pages >= 2 and record.pagination_complete is True and record.items == 10500
    assert record.error is None and len(record.request_ids) == record.pages

    selftest = run(CONTRACT_TOOL, function="selftest", broker=make_broker(endpoint, allow_writes=True))
    assert selftest.ok, selftest.error
    assert [c.operation for c in selftest.calls] == ["CreateLogGroup", "FilterLogEvents"]


def test_client_behaves_as_boto3_for_tool_code(run: Callable[..., ToolRun], aws: Any) -> None:
    user, prefix = unique("alice"), unique("grp")
    aws("iam").create_user(UserName=user)
    for i in range(3):
        aws("logs").create_log_group(logGroupName=f"{prefix}-{i}")

    result = run('''
        import sys
        from datetime import datetime
        from botocore.exceptions import ClientError

        def run(ctx, user, prefix):
            logs, iam = ctx.client("logs"), ctx.client("iam")
            out = {"region": logs.meta.region_name,
                   "other_region": ctx.client("logs", region="eu-west-1").meta.region_name,
                   "same_client": ctx.client("logs") is logs}
            try:
                logs.describe_log_streams(logGroupName="no-such-group")
            except logs.exceptions.ResourceNotFoundException as exc:
                out["caught"] = [type(exc).__name__, isinstance(exc, ClientError), exc.response["Error"]["Code"],
                                 exc.response["Error"]["Message"], exc.operation_name]
            try:
                iam.get_user(UserName="nobody")
            except iam.exceptions.NoSuchEntityException as exc:
                out["iam_code"] = exc.response["Error"]["Code"]
            created = iam.get_user(UserName=user)["User"]["CreateDate"]
            out["datetime"] = isinstance(created, datetime) and created.tzinfo is not None
            pages = logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=prefix, PaginationConfig={"MaxItems": 2})
            full = pages.build_full_result()
            out["first_two"] = [g["logGroupName"] for g in full["logGroups"]]
            out["has_next_token"] = "NextToken" in full
            out["searched"] = list(logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=prefix).search("logGroups[].logGroupName"))
            out["can_paginate"] = [logs.can_paginate("filter_log_events"), logs.can_paginate("put_log_events")]
            out["heavy_modules"] = [m for m in ("boto3", "botocore.client", "selenium") if m in sys.modules]
            return out
    ''', params={"user": user, "prefix": prefix})

    assert result.ok, result.error
    value = result.value
    assert (value["region"], value["other_region"], value["same_client"]) == (REGION, "eu-west-1", True)
    assert value["caught"] == ["ResourceNotFoundException", True, "ResourceNotFoundException",
                               "The specified log group does not exist.", "DescribeLogStreams"]
    assert value["iam_code"] == "NoSuchEntity"
    assert value["datetime"] is True
    assert value["first_two"] == [f"{prefix}-0", f"{prefix}-1"] and value["has_next_token"] is True
    assert value["searched"] == [f"{prefix}-{i}" for i in range(3)]
    assert value["can_paginate"] == [True, False]
    assert value["heavy_modules"] == []
    truncated = next(c for c in result.calls if c.operation == "DescribeLogGroups")
    assert truncated.pagination_complete is False and truncated.items == 2
    errors = [(c.operation, c.error) for c in result.calls if c.error]
    assert errors == [("DescribeLogStreams", "ResourceNotFoundException"), ("GetUser", "NoSuchEntity")]


def test_writes_refused_in_a_real_run_and_allowed_in_selftest(run: Callable[..., ToolRun], aws: Any,
                                                               endpoint: str) -> None:
    group, secret = unique("keep"), unique("db-password")
    aws("logs").create_log_group(logGroupName=group)
    aws("secretsmanager").create_secret(Name=secret, SecretString="hunter2-very-secret")
    tool = '''
        from botocore.exceptions import ClientError

        def attempt(call, **params):
            try:
                call(**params)
            except ClientError as exc:
                return [type(exc).__name__, exc.response["Error"]["Code"], str(exc)]
            return None

        def run(ctx, group, secret):
            return {"delete": attempt(ctx.client("logs").delete_log_group, logGroupName=group),
                    "terminate": attempt(ctx.client("ec2").terminate_instances, InstanceIds=["i-0123456789abcdef0"]),
                    "secret": attempt(ctx.client("secretsmanager").get_secret_value, SecretId=secret)}

        def selftest(ctx):
            logs, ec2 = ctx.client("logs"), ctx.client("ec2")
            logs.create_log_group(logGroupName="selftest-group")
            logs.delete_log_group(logGroupName="selftest-group")
            instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
            ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    '''

    result = run(tool, params={"group": group, "secret": secret})

    assert result.ok, result.error
    delete, terminate, secret_read = result.value["delete"], result.value["terminate"], result.value["secret"]
    assert delete[:2] == ["BrokerRefused", "AuditbotRefused"]
    assert "logs:DeleteLogGroup is not a read-only operation" in delete[2]
    assert "ec2:TerminateInstances is not a read-only operation" in terminate[2]
    assert secret_read[:2] == ["BrokerRefused", "AuditbotRefused"]
    assert "secretsmanager:GetSecretValue is refused by auditbot: it returns the secret value" in secret_read[2]
    assert aws("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"], "the group must survive"
    assert {c.operation: c.error for c in result.calls} == {
        "DeleteLogGroup": "AuditbotRefused", "TerminateInstances": "AuditbotRefused",
        "GetSecretValue": "AuditbotRefused"}
    assert "hunter2" not in json.dumps(result.value) + repr(result.calls)

    selftest = run(tool, function="selftest", broker=make_broker(endpoint, allow_writes=True))
    assert selftest.ok, selftest.error
    assert [(c.operation, c.error) for c in selftest.calls] == [
        ("CreateLogGroup", None), ("DeleteLogGroup", None), ("RunInstances", None), ("TerminateInstances", None)]


def test_tool_process_environment_holds_no_credentials(run: Callable[..., ToolRun],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret-key-123456")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "parent-session-token-123456")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-parent-token-123456")

    result = run('''
        import os

        def run(ctx):
            return {"env": dict(os.environ)}
    ''')

    assert result.ok, result.error
    env = result.value["env"]
    assert env and not [k for k in env if k.startswith("AWS_") or "TOKEN" in k.upper()]
    assert "parent-" not in json.dumps(env)


def test_timeout_kills_every_process_of_the_tool(run: Callable[..., ToolRun]) -> None:
    marker = str(uuid.uuid4().int % 10**9 + 10**9)
    result = run(f'''
        import subprocess, time

        def run(ctx):
            subprocess.Popen(["sleep", "{marker}"])
            ctx.progress("started")
            time.sleep(60)
            return {{}}
    ''', timeout=2)

    assert result.timed_out and not result.ok and result.error_type == "TimeoutError"
    assert result.progress == ["started"]
    assert gone_within(marker, 10)


def test_raising_tool_gives_its_own_trimmed_traceback(run: Callable[..., ToolRun]) -> None:
    result = run('''
        def deep(n):
            if n == 0:
                raise ValueError("bucket list is empty")
            return deep(n - 1)

        def run(ctx):
            return deep(30)
    ''')

    assert not result.ok and result.error_type == "ValueError"
    lines = result.error.splitlines()
    assert len(lines) <= 15 and lines[-1] == "ValueError: bucket list is empty"
    assert "in deep" in result.error and "sandbox_child" not in result.error


@pytest.mark.parametrize(("body", "expected"), [
    ("return [1, 2]", "run must return a dict, not list"),
    ("return {'ids': {1, 2}}", "the result holds a set, which is not JSON-able"),
])
def test_bad_results_are_errors(run: Callable[..., ToolRun], body: str, expected: str) -> None:
    result = run(f"def run(ctx):\n    {body}\n")
    assert not result.ok and expected in result.error


def test_datetimes_in_results_become_iso_strings(run: Callable[..., ToolRun]) -> None:
    result = run('''
        from datetime import datetime, timezone

        def run(ctx):
            return {"at": datetime(2024, 5, 1, tzinfo=timezone.utc)}
    ''')
    assert result.value == {"at": "2024-05-01T00:00:00+00:00"}


def test_tool_process_dying_without_a_result(run: Callable[..., ToolRun]) -> None:
    result = run('''
        import os, sys

        def run(ctx):
            print("about to vanish", file=sys.stderr, flush=True)
            os._exit(3)
    ''')
    assert not result.ok and result.error_type == "ToolProcessDied"
    assert "exit status 3" in result.error and "about to vanish" in result.error


def test_evidence_files_and_refused_names(run: Callable[..., ToolRun]) -> None:
    result = run('''
        import os
        from datetime import datetime, timezone

        def run(ctx):
            refused = []
            for name in ("../escape.json", "sub/x.json", ".hidden", "", "a\\\\b.json"):
                try:
                    ctx.save_json(name, {})
                except ValueError:
                    refused.append(name)
            ctx.save_json("report.json", {"at": datetime(2024, 5, 1, tzinfo=timezone.utc)})
            ctx.save_text("notes.txt", "hello")
            ctx.save_bytes("raw.bin", b"\\x00\\x01")
            os.symlink("/etc/hostname", ctx.output_path("link.txt"))
            os.link(ctx.output_path("notes.txt"), ctx.output_path("twin.txt"))
            return {"refused": refused}
    ''')

    assert result.ok, result.error
    assert result.value["refused"] == ["../escape.json", "sub/x.json", ".hidden", "", "a\\b.json"]
    assert [f.name for f in result.files] == ["raw.bin", "report.json"]
    assert result.progress == ["not kept as evidence: link.txt: not a regular file",
                               "not kept as evidence: notes.txt: a hard link",
                               "not kept as evidence: twin.txt: a hard link"]
    assert json.loads(result.files[1].read_text()) == {"at": "2024-05-01 00:00:00+00:00"}
    assert result.files[1].read_text().startswith('{\n  "at"')
    assert not (result.files[0].parent.parent / "escape.json").exists()


def test_console_login_url_goes_through_the_broker(run: Callable[..., ToolRun], endpoint: str) -> None:
    asked: list[str] = []

    def console_login(destination: str) -> str:
        asked.append(destination)
        return "https://signin.example/login?token=opaque"

    tool = '''
        from botocore.exceptions import ClientError

        def run(ctx):
            try:
                return {"url": ctx.console_login_url(ctx.console_url + "s3/home"), "console": ctx.console_url}
            except ClientError as exc:
                return {"refused": exc.response["Error"]["Code"]}
    '''
    broker = Broker(BrokerConfig(region=REGION, endpoint_url=endpoint, credentials=FAKE_KEYS),
                    console_login=console_login)
    result = run(tool, broker=broker, console_url="http://console.test/")
    assert result.value == {"url": "https://signin.example/login?token=opaque", "console": "http://console.test/"}
    assert asked == ["http://console.test/s3/home"]
    (record,) = result.calls
    assert (record.service, record.operation, record.params) == ("signin", "ConsoleLogin",
                                                                  {"destination": "http://console.test/s3/home"})

    assert run(tool).value == {"refused": "AuditbotRefused"}


def test_streamed_bodies_read_like_botocore_ones(run: Callable[..., ToolRun], aws: Any, endpoint: str) -> None:
    bucket = unique("evidence")
    aws("s3").create_bucket(Bucket=bucket)
    aws("s3").put_object(Bucket=bucket, Key="users.csv", Body=b"name\r\nalice\nbob\n")

    result = run('''
        def run(ctx, bucket):
            s3 = ctx.client("s3")
            first = s3.get_object(Bucket=bucket, Key="users.csv")["Body"].read(amt=4)
            lines = list(s3.get_object(Bucket=bucket, Key="users.csv")["Body"].iter_lines())
            return {"first": first.decode(), "lines": [line.decode() for line in lines]}
    ''', params={"bucket": bucket}, broker=make_broker(endpoint, s3_get_object=True))

    assert result.value == {"first": "name", "lines": ["name", "alice", "bob"]}


def test_account_and_region_reach_the_tool(run: Callable[..., ToolRun]) -> None:
    result = run('''
        def run(ctx):
            return {"account": ctx.account_id, "region": ctx.region}
    ''')
    assert result.value == {"account": "123456789012", "region": REGION}


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Chromium")
def test_browser_takes_a_screenshot(run: Callable[..., ToolRun]) -> None:
    result = run('''
        def run(ctx):
            with ctx.browser() as driver:
                driver.get("data:text/html,<h1>Audit evidence</h1>")
                heading = driver.find_element("tag name", "h1").text
                driver.save_screenshot(str(ctx.output_path("x.png")))
            return {"heading": heading}
    ''', timeout=60)

    assert result.ok, result.error
    assert result.value == {"heading": "Audit evidence"}
    (png,) = result.files
    assert png.name == "x.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_read_only_role_is_assumed_for_each_run(run: Callable[..., ToolRun], aws: Any, endpoint: str) -> None:
    role = aws("iam").create_role(RoleName=unique("auditbot-read"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    broker = make_broker(endpoint, role_arn=role, job_id="job 42/a")

    result = run('''
        def run(ctx):
            ctx.client("logs").get_paginator("describe_log_groups").paginate().build_full_result()
            return {"arn": ctx.client("sts").get_caller_identity()["Arn"]}
    ''', broker=broker)

    assert result.ok, result.error
    assert result.value["arn"].endswith(":assumed-role/" + role.split("/")[-1] + "/auditbot-job-42-a")
    assert json.loads(broker.run_policy or "{}")["Statement"] == [
        {"Effect": "Allow", "Action": ["logs:DescribeLogGroups", "sts:GetCallerIdentity"], "Resource": "*"}]
    assert broker.caller_arn.endswith(":user/moto"), "the worker's own identity stays its own"

    dynamic = run('''
        def run(ctx, service):
            return {"regions": len(ctx.client(service).describe_regions()["Regions"])}
    ''', params={"service": "ec2"}, broker=broker)
    assert dynamic.ok and broker.run_policy is None
