"""list_aws_resources against the seeded estate, through the real sandbox and broker."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from workers.simulated_aws import SimulatedAWS

ALL_TYPES = [
    "ec2_instances", "security_groups", "vpcs", "s3_buckets", "iam_users", "iam_roles", "rds_instances",
    "rds_snapshots", "lambda_functions", "dynamodb_tables", "log_groups", "kms_keys", "cloudtrail_trails",
]
# type -> (service, paginated operation, result key): how a test counts what AWS holds, independently
GROUND_TRUTH = {
    "security_groups": ("ec2", "describe_security_groups", "SecurityGroups"),
    "vpcs": ("ec2", "describe_vpcs", "Vpcs"),
    "s3_buckets": ("s3", "list_buckets", "Buckets"),
    "iam_users": ("iam", "list_users", "Users"),
    "iam_roles": ("iam", "list_roles", "Roles"),
    "rds_instances": ("rds", "describe_db_instances", "DBInstances"),
    "rds_snapshots": ("rds", "describe_db_snapshots", "DBSnapshots"),
    "lambda_functions": ("lambda", "list_functions", "Functions"),
    "dynamodb_tables": ("dynamodb", "list_tables", "TableNames"),
    "log_groups": ("logs", "describe_log_groups", "logGroups"),
    "kms_keys": ("kms", "list_keys", "Keys"),
}


def count(aws: SimulatedAWS, service: str, operation: str, key: str, region: str = "us-east-1") -> int:
    pages = aws.client(service, region).get_paginator(operation).paginate()
    return sum(len(page.get(key, [])) for page in pages)


def test_json_inventory_counts_every_type_of_the_seeded_estate(run_builtin, evidence_file, simulated_aws,
                                                                estate):
    run = run_builtin("list_aws_resources")

    inventory = json.loads(evidence_file(run).read_text())
    expected = {t: count(simulated_aws, *spec) for t, spec in GROUND_TRUTH.items()}
    expected |= {"ec2_instances": len(estate["ec2"]["instances"]), "cloudtrail_trails": 0}
    assert run.value["counts"] == expected
    assert run.value["not_collected"] == {} == inventory["not_collected"]
    assert {t: len(rows) for t, rows in inventory["resources"].items()} == expected
    assert list(inventory["resources"]) == ALL_TYPES
    assert inventory["account_id"] == "123456789012" and inventory["region"] == "us-east-1"
    assert f"Listed {sum(expected.values())} resources" in run.value["summary"]
    assert all(call.pagination_complete is not False for call in run.calls)


def test_rows_carry_id_name_arn_region_and_created(run_builtin, evidence_file, estate):
    run = run_builtin("list_aws_resources", resource_types=["ec2_instances", "iam_users", "log_groups"])

    resources = json.loads(evidence_file(run).read_text())["resources"]
    assert list(resources) == ["ec2_instances", "iam_users", "log_groups"]
    instances = {row["id"]: row for row in resources["ec2_instances"]}
    assert set(instances) == set(estate["ec2"]["instances"])
    assert {row["name"] for row in instances.values()} == {"web-1", "web-2"}
    some_id, some = next(iter(instances.items()))
    assert some["arn"] == f"arn:aws:ec2:us-east-1:123456789012:instance/{some_id}"
    assert some["details"]["InstanceType"] == "t3.small" and some["created"].startswith("20")
    users = {row["name"]: row for row in resources["iam_users"]}
    assert set(users) == set(estate["iam"]["users"])
    assert users["alice"]["arn"] == "arn:aws:iam::123456789012:user/alice"
    assert users["alice"]["region"] == "global"
    groups = {row["id"]: row for row in resources["log_groups"]}
    assert groups["prod-app-logs"]["arn"] == "arn:aws:logs:us-east-1:123456789012:log-group:prod-app-logs"
    assert groups["prod-app-logs"]["created"].startswith("20")


def test_csv_has_one_row_per_resource_under_the_fixed_header(run_builtin, evidence_file, estate):
    run = run_builtin("list_aws_resources", resource_types=["s3_buckets", "rds_instances"], format="csv")

    path = evidence_file(run)
    assert path.name == "aws_resource_inventory.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["type", "id", "name", "arn", "region", "created"]
    buckets = [r for r in rows[1:] if r[0] == "s3_buckets"]
    assert sorted(r[1] for r in buckets) == sorted(estate["s3"]["buckets"])
    assert all(r[3] == f"arn:aws:s3:::{r[1]}" and r[5] for r in buckets)
    assert [r[:3] for r in rows[1:] if r[0] == "rds_instances"] == [["rds_instances", "prod-db", "prod-db"]]
    assert len(rows) == 1 + len(estate["s3"]["buckets"]) + 1


@pytest.fixture
def many_log_groups(simulated_aws) -> Iterator[int]:
    """130 log groups in a region the estate does not use: DescribeLogGroups pages at 50."""
    logs = simulated_aws.client("logs", "eu-west-1")
    names = [f"/pagination/group-{n:03d}" for n in range(130)]
    for name in names:
        logs.create_log_group(logGroupName=name)
    yield len(names)
    for name in names:
        logs.delete_log_group(logGroupName=name)


def test_every_page_is_read(run_builtin, make_broker, many_log_groups):
    broker = make_broker(region="eu-west-1")
    run = run_builtin("list_aws_resources", broker=broker, resource_types=["log_groups"])

    assert run.ok, run.error
    assert run.value["counts"] == {"log_groups": many_log_groups}
    [call] = run.calls
    assert call.operation == "DescribeLogGroups" and call.pages >= 3 and call.pagination_complete is True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_with_iam_auth() -> Iterator[str]:
    """A moto server of its own that enforces IAM policies after its first 3 requests (the set-up calls)."""
    port = _free_port()
    command = [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("the IAM-enforcing moto server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_type_that_is_denied_is_reported_as_not_collected(run_builtin, make_broker, moto_with_iam_auth):
    iam = boto3.client("iam", endpoint_url=moto_with_iam_auth, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="no-kms", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
                      {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    broker = make_broker(endpoint_url=moto_with_iam_auth, credentials={
        "aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]})

    run = run_builtin("list_aws_resources", broker=broker, resource_types=["iam_users", "kms_keys"])

    assert run.ok, run.error
    assert run.value["counts"] == {"iam_users": 1}
    assert list(run.value["not_collected"]) == ["kms_keys"]
    assert "AccessDenied" in run.value["not_collected"]["kms_keys"]
    assert "Not collected: kms_keys (" in run.value["summary"]
