"""Simulated AWS and its demo estate, checked through boto3 against the real moto server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.exceptions
import httpx
import pytest

from workers.simulated_aws import SimulatedAWS, _batches, seed_demo_data


@pytest.fixture(scope="module")
def summary(aws: SimulatedAWS) -> Iterator[dict[str, Any]]:
    """A freshly seeded estate for this module.

    moto's state is per process, so this reseeds the shared session estate (tests/conftest.py)
    afterwards, for the tests that run later.
    """
    aws.reset()
    yield seed_demo_data(aws)
    aws.reset()
    seed_demo_data(aws)


@pytest.fixture
def sim(aws: SimulatedAWS, summary: dict[str, Any]) -> SimulatedAWS:
    return aws


def test_server_listens_on_loopback_until_stopped() -> None:
    simulated = SimulatedAWS()
    endpoint = simulated.start()
    assert endpoint.startswith("http://127.0.0.1:")
    assert simulated.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    simulated.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(endpoint, timeout=5)
    with pytest.raises(RuntimeError, match="not started"):
        simulated.endpoint_url  # noqa: B018 - the property is the thing under test


def test_clients_sign_with_fake_keys_whatever_the_environment(
    aws: SimulatedAWS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKINGKEY00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-looking-secret")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    client = aws.client("sts")
    seen: list[str] = []
    client.meta.events.register(
        "before-send", lambda request, **_: seen.append(request.headers["Authorization"])
    )
    client.get_caller_identity()
    authorization = seen[0] if isinstance(seen[0], str) else seen[0].decode()
    assert "Credential=testing/" in authorization
    assert "AKIAREALLOOKINGKEY00" not in authorization
    assert aws.credentials == {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def test_log_events_need_more_than_one_page(sim: SimulatedAWS, summary: dict[str, Any]) -> None:
    pages = list(sim.client("logs").get_paginator("filter_log_events").paginate(logGroupName="prod-app-logs"))
    events = [event for page in pages for event in page["events"]]
    assert summary["logs"] == {"prod-app-logs": 12_500, "prod-audit-trail": 6}
    assert len(pages) >= 2 and len(pages[0]["events"]) == 10_000
    assert len(events) == 12_500
    week_ago = (datetime.now(UTC) - timedelta(days=7)).timestamp() * 1000
    assert all(event["timestamp"] > week_ago for event in events)
    assert {event["logStreamName"] for event in events} == {"web-1/app", "web-2/app"}
    assert any(" ERROR " in event["message"] for event in events)
    assert any('HTTP/1.1" 200 ' in event["message"] for event in events)
    trail = sim.client("logs").filter_log_events(logGroupName="prod-audit-trail")["events"]
    assert len(trail) == 6


def test_dynamodb_tables_hold_items(sim: SimulatedAWS, summary: dict[str, Any]) -> None:
    ddb = sim.client("dynamodb")
    counts = {
        table: ddb.scan(TableName=table, Select="COUNT")["Count"] for table in ("user-sessions", "orders")
    }
    assert counts == summary["dynamodb"] == {"user-sessions": 5, "orders": 8}


def _snapshot_config(snapshot: dict[str, Any]) -> dict[str, Any]:
    """AllocatedStorage from the snapshot itself, the rest from its `config:` tags."""
    tags = {tag["Key"].removeprefix("config:"): tag["Value"] for tag in snapshot["TagList"]}
    return {**tags, "AllocatedStorage": snapshot["AllocatedStorage"]}


def test_rds_snapshots_differ_in_storage_retention_multi_az_and_class(
    sim: SimulatedAWS, summary: dict[str, Any]
) -> None:
    rds = sim.client("rds")
    found = rds.describe_db_snapshots(DBInstanceIdentifier="prod-db", SnapshotType="manual")["DBSnapshots"]
    snapshots = {snapshot["DBSnapshotIdentifier"]: snapshot for snapshot in found}
    old, new = snapshots["snap-old"], snapshots["snap-new"]
    assert old["SnapshotCreateTime"] < new["SnapshotCreateTime"]
    assert _snapshot_config(old) == {
        "AllocatedStorage": 20,
        "BackupRetentionPeriod": "1",
        "MultiAZ": "False",
        "DBInstanceClass": "db.t3.micro",
    }
    assert _snapshot_config(new) == {
        "AllocatedStorage": 100,
        "BackupRetentionPeriod": "7",
        "MultiAZ": "True",
        "DBInstanceClass": "db.m5.large",
    }
    instance = rds.describe_db_instances(DBInstanceIdentifier="prod-db")["DBInstances"][0]
    assert instance["Engine"] == "postgres"
    assert {key: instance[key] for key in summary["rds"]["snapshot_changes"]} == {
        key: after for key, (_, after) in summary["rds"]["snapshot_changes"].items()
    }


def test_s3_buckets_versioning_and_public_policy(sim: SimulatedAWS) -> None:
    s3 = sim.client("s3")
    names = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert names == {"acme-prod-logs", "acme-audit-evidence", "acme-public-site"}
    assert s3.get_bucket_versioning(Bucket="acme-audit-evidence")["Status"] == "Enabled"
    assert "Status" not in s3.get_bucket_versioning(Bucket="acme-prod-logs")
    versions = s3.list_object_versions(Bucket="acme-audit-evidence")["Versions"]
    assert len(versions) == 2
    assert '"Principal": "*"' in s3.get_bucket_policy(Bucket="acme-public-site")["Policy"]


def test_iam_users_mfa_group_and_roles(sim: SimulatedAWS) -> None:
    iam = sim.client("iam")
    assert {user["UserName"] for user in iam.list_users()["Users"]} == {"alice", "bob", "carol"}
    assert len(iam.list_mfa_devices(UserName="alice")["MFADevices"]) == 1
    assert iam.list_mfa_devices(UserName="bob")["MFADevices"] == []
    assert iam.list_mfa_devices(UserName="carol")["MFADevices"] == []
    assert {user["UserName"] for user in iam.get_group(GroupName="developers")["Users"]} == {"bob", "carol"}
    assert {"auditbot-readonly", "lambda-exec"} <= {role["RoleName"] for role in iam.list_roles()["Roles"]}


def test_ec2_instances_security_group_and_lambda(sim: SimulatedAWS, summary: dict[str, Any]) -> None:
    ec2 = sim.client("ec2")
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:env", "Values": ["prod"]}])["Reservations"]
    instances = [instance for reservation in reservations for instance in reservation["Instances"]]
    assert sorted(instance["InstanceId"] for instance in instances) == sorted(summary["ec2"]["instances"])
    assert len(instances) == 2
    group = ec2.describe_security_groups(GroupIds=summary["ec2"]["security_groups"])["SecurityGroups"][0]
    open_ports = {
        rule["FromPort"] for rule in group["IpPermissions"] if {"CidrIp": "0.0.0.0/0"} in rule["IpRanges"]
    }
    assert open_ports == {443}
    function = sim.client("lambda").get_function(FunctionName="audit-log-shipper")["Configuration"]
    assert function["Runtime"] == "python3.12"


def test_log_batches_respect_put_log_events_limits() -> None:
    hour = 3_600_000
    many = [{"timestamp": i, "message": "x"} for i in range(10_001)]
    assert [len(batch) for batch in _batches(many)] == [10_000, 1]
    big = [{"timestamp": i, "message": "y" * 1_000} for i in range(1_100)]
    assert [len(batch) for batch in _batches(big)] == [1_022, 78]  # 1,022 * 1,026 bytes fits in 1 MiB
    spread = [{"timestamp": t * hour, "message": "z"} for t in (0, 23, 24, 25, 49)]
    assert [[e["timestamp"] // hour for e in batch] for batch in _batches(spread)] == [[0, 23, 24], [25, 49]]


def test_reset_forgets_everything(sim: SimulatedAWS, summary: dict[str, Any]) -> None:
    """Last in this module on purpose: it empties the estate the tests above read."""
    sim.reset()
    assert sim.client("s3").list_buckets()["Buckets"] == []
    with pytest.raises(botocore.exceptions.ClientError):
        sim.client("dynamodb").describe_table(TableName="orders")


def test_a_separate_simulated_aws_ends_with_the_process_that_started_it() -> None:
    """An RQ work-horse leaves by os._exit: no atexit runs, yet its selftest moto must not outlive it."""
    import subprocess
    import sys
    import time

    code = ("from workers.simulated_aws import SimulatedAWSProcess\n"
            "print(SimulatedAWSProcess().start(), flush=True)\n"
            "import os; os._exit(0)\n")
    endpoint = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=0.5)
        except httpx.HTTPError:
            return
        time.sleep(0.1)
    raise AssertionError(f"the simulated AWS at {endpoint} outlived its parent")
