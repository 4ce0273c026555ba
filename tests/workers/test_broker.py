"""The broker on its own: policy, records, pagination protocol and replies, against moto in server mode."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from workers.broker import Broker, BrokerConfig, ReadOnlyPolicy, load_denied_operations, redact
from workers.sandbox_iam import session_name, session_policy, tool_actions

REGION = "us-east-1"
FAKE_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def make_broker(endpoint: str, **options: Any) -> Broker:
    return Broker(BrokerConfig(region=REGION, endpoint_url=endpoint, credentials=FAKE_KEYS, **options))


@pytest.fixture
def broker(endpoint: str) -> Broker:
    return make_broker(endpoint)


def client(endpoint: str, service: str) -> Any:
    return boto3.session.Session(region_name=REGION, **FAKE_KEYS).client(service, endpoint_url=endpoint)


def call(operation: str, service: str = "logs", region: str | None = None, **params: Any) -> dict[str, Any]:
    return {"type": "call", "service": service, "region": region, "operation": operation, "params": params}


def ask(broker: Broker, message: dict[str, Any]) -> dict[str, Any]:
    """The broker's reply to a message that must have one."""
    reply = broker.handle(message)
    assert reply is not None
    return reply


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(("operation", "allowed"), [
    ("ec2:DescribeInstances", True),
    ("logs:FilterLogEvents", True),
    ("dynamodb:Query", True),
    ("iam:GenerateCredentialReport", True),
    ("ec2:TerminateInstances", False),
    ("s3:PutObject", False),
    ("s3:SelectObjectContent", False),
    ("secretsmanager:GetSecretValue", False),
    ("ssm:GetParametersByPath", False),
    ("sts:AssumeRoleWithWebIdentity", False),
    ("s3:GetObject", False),
])
def test_read_only_policy(operation: str, allowed: bool) -> None:
    service, api_name = operation.split(":")
    refusal = ReadOnlyPolicy(allow_writes=False, s3_get_object=False).refusal(service, api_name)
    assert (refusal is None) is allowed
    assert refusal is None or refusal.startswith(operation)


def test_allowing_writes_keeps_the_denied_list_and_s3_flag_lifts_only_get_object() -> None:
    writes = ReadOnlyPolicy(allow_writes=True, s3_get_object=False)
    assert writes.refusal("ec2", "TerminateInstances") is None
    assert "returns plaintext" in (writes.refusal("kms", "Decrypt") or "")
    objects = ReadOnlyPolicy(allow_writes=False, s3_get_object=True)
    assert objects.refusal("s3", "GetObject") is None
    assert objects.refusal("s3", "GetObjectTorrent") is not None


@pytest.mark.parametrize("operation", [
    "secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "kms:Decrypt", "s3:GetObject",
    "lambda:GetFunction", "ec2:GetPasswordData", "sts:GetSessionToken", "sts:GetFederationToken",
    "ecr:GetAuthorizationToken", "codeartifact:GetAuthorizationToken", "cognito-identity:GetCredentialsForIdentity",
    "sqs:ReceiveMessage",
])
def test_reads_that_return_secrets_mint_credentials_or_have_side_effects_are_denied(operation: str) -> None:
    """The issue's minimum denylist, refused even in selftest, where writes are allowed."""
    service, api_name = operation.split(":")
    refusal = ReadOnlyPolicy(allow_writes=True, s3_get_object=False).refusal(service, api_name)
    assert refusal is not None and refusal.startswith(f"{operation} is refused by auditbot: it ")


def test_session_policy_names_the_tools_own_actions(broker: Broker) -> None:
    source = """
def run(ctx, bucket):
    s3, logs = ctx.client("s3"), ctx.client(service="logs")
    s3.get_bucket_policy(Bucket=bucket)
    pages = logs.get_paginator("describe_log_groups").paginate()
    ctx.client("cloudwatch").describe_alarms()
    return {"n": len(list(pages)), "helper": sorted([1]).count(1)}
"""
    actions = tool_actions(source, broker._operations_of)
    assert actions == ["cloudwatch:DescribeAlarms", "logs:DescribeLogGroups", "s3:GetBucketPolicy"]
    assert json.loads(session_policy(actions))["Statement"][0]["Action"] == actions
    assert tool_actions("def run(ctx, s):\n    return ctx.client(s).list_things()\n", broker._operations_of) is None
    many = [f"ec2:Describe{i}" for i in range(200)]
    assert json.loads(session_policy(many))["Statement"][0]["Action"] == ["ec2:*"]
    assert session_name("2024-05-01/job#7 x") == "auditbot-2024-05-01-job-7-x"


def test_denied_list_is_well_formed() -> None:
    denied = load_denied_operations()
    assert len(denied) > 20
    assert all(":" in d.pattern and " " not in d.pattern and d.reason for d in denied)


def test_writes_need_a_simulated_endpoint() -> None:
    with pytest.raises(ValueError, match="simulated endpoint"):
        BrokerConfig(region=REGION, allow_writes=True)


def test_identity_comes_from_sts(broker: Broker) -> None:
    assert broker.account_id == "123456789012"
    assert broker.caller_arn.startswith("arn:aws:")
    assert broker.partition == "aws"


def test_call_reply_and_record(broker: Broker, endpoint: str) -> None:
    group = unique("grp")
    client(endpoint, "logs").create_log_group(logGroupName=group)

    reply = ask(broker, call("describe_log_groups", logGroupNamePrefix=group))

    assert reply["ok"] is True
    assert [g["logGroupName"] for g in reply["response"]["logGroups"]] == [group]
    metadata = reply["response"]["ResponseMetadata"]
    assert "HTTPHeaders" not in metadata and metadata["RequestId"]
    (record,) = broker.records
    assert (record.service, record.operation, record.region) == ("logs", "DescribeLogGroups", REGION)
    assert (record.pages, record.items, record.pagination_complete, record.error) == (1, 1, None, None)
    assert record.request_ids == [metadata["RequestId"]] and record.ended >= record.started
    assert record.to_dict()["started"] == record.started.isoformat()


def test_refusals_are_client_errors_and_recorded(broker: Broker) -> None:
    cases = [
        (call("delete_log_group", logGroupName="g"), "logs:DeleteLogGroup is not a read-only operation"),
        (call("describe_things", service="no-such-service"), "'no-such-service' is not an AWS service"),
        (call("frobnicate"), "logs has no operation 'frobnicate'"),
        (call("describe_log_groups", region="evil.example.com/"), "is not an AWS region name"),
        (call("generate_presigned_url", service="s3"), "s3 has no operation 'generate_presigned_url'"),
    ]
    for message, text in cases:
        reply = ask(broker, message)
        assert reply["ok"] is False
        assert reply["error"]["Code"] == "AuditbotRefused" and text in reply["error"]["Message"]
    assert [r.error for r in broker.records] == ["AuditbotRefused"] * len(cases)


def test_other_regions_are_allowed_and_recorded(broker: Broker) -> None:
    reply = ask(broker, call("describe_log_groups", region="eu-west-1"))
    assert reply["ok"] is True
    assert broker.records[0].region == "eu-west-1"


def test_aws_errors_carry_code_and_modeled_exception(broker: Broker) -> None:
    reply = ask(broker, call("get_user", service="iam", UserName="nobody"))
    assert reply["ok"] is False
    assert reply["error"]["Code"] == "NoSuchEntity" and reply["exception"] == "NoSuchEntityException"
    assert reply["operation"] == "GetUser" and "HTTPHeaders" not in reply["metadata"]
    assert broker.records[0].error == "NoSuchEntity"


def test_invalid_parameters_and_protocol_errors(broker: Broker) -> None:
    bad_params = ask(broker, call("describe_log_groups", limit="many"))
    assert bad_params["failure"] == "ParamValidationError"
    assert "limit" in bad_params["message"]
    assert ask(broker, {"type": "nope"})["failure"] == "ProtocolError"
    assert ask(broker, {"type": "call", "operation": "x"})["failure"] == "ProtocolError"
    assert ask(broker, {"type": "page_next", "id": 99})["failure"] == "ProtocolError"


def test_params_are_redacted_in_records(broker: Broker) -> None:
    assert redact({"SecretId": "s", "Filters": [{"Name": "n", "Password": "p"}], "KeyMaterial": b"k"}) == {
        "SecretId": "[redacted]", "Filters": [{"Name": "n", "Password": "[redacted]"}], "KeyMaterial": "[redacted]"}
    ask(broker, call("describe_log_groups", logGroupNamePrefix="x", nextToken="opaque-token"))
    assert broker.records[0].params == {"logGroupNamePrefix": "x", "nextToken": "[redacted]"}


def paginate(broker: Broker, **params: Any) -> int:
    reply = ask(broker, {"type": "paginate", "service": "logs", "region": None,
                         "operation": "describe_log_groups", "params": params})
    assert reply["ok"] is True and reply["result_keys"] == ["logGroups"]
    return int(reply["id"])


def test_pagination_one_page_at_a_time(broker: Broker, endpoint: str) -> None:
    prefix = unique("pg")
    for i in range(5):
        client(endpoint, "logs").create_log_group(logGroupName=f"{prefix}-{i}")

    pagination = paginate(broker, logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 2})
    pages = []
    while not (reply := ask(broker, {"type": "page_next", "id": pagination}))["done"]:
        pages.append([g["logGroupName"] for g in reply["page"]["logGroups"]])
        assert "HTTPHeaders" not in reply["page"]["ResponseMetadata"]

    assert pages == [[f"{prefix}-0", f"{prefix}-1"], [f"{prefix}-2", f"{prefix}-3"], [f"{prefix}-4"]]
    assert reply["resume_token"] is None
    (record,) = broker.records
    assert (record.operation, record.pages, record.items, record.pagination_complete) == (
        "DescribeLogGroups", 3, 5, True)


def test_abandoned_and_truncated_paginations_are_incomplete(broker: Broker, endpoint: str) -> None:
    prefix = unique("ab")
    for i in range(3):
        client(endpoint, "logs").create_log_group(logGroupName=f"{prefix}-{i}")

    closed = paginate(broker, logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 1})
    ask(broker, {"type": "page_next", "id": closed})
    assert broker.handle({"type": "page_close", "id": closed}) is None
    left_open = paginate(broker, logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 1})
    ask(broker, {"type": "page_next", "id": left_open})
    broker.close_paginations()
    truncated = paginate(broker, logGroupNamePrefix=prefix, PaginationConfig={"MaxItems": 2})
    while not (reply := ask(broker, {"type": "page_next", "id": truncated}))["done"]:
        pass

    assert reply["resume_token"]
    assert [(r.pages, r.pagination_complete) for r in broker.records] == [(1, False), (1, False), (1, False)]
    assert ask(broker, {"type": "page_next", "id": closed})["failure"] == "ProtocolError"


def test_caps_on_calls_and_pages(endpoint: str) -> None:
    capped = make_broker(endpoint, max_calls=2, max_pages=1)
    pagination = paginate(capped, PaginationConfig={"PageSize": 1})
    assert ask(capped, {"type": "page_next", "id": pagination})["ok"] is True
    over_pages = ask(capped, {"type": "page_next", "id": pagination})
    assert "cap of 1 pages" in over_pages["error"]["Message"]
    assert ask(capped, call("describe_log_groups"))["ok"] is True
    over_calls = ask(capped, call("describe_log_groups"))
    assert "cap of 2 AWS calls" in over_calls["error"]["Message"]
    assert [r.error for r in capped.records] == ["AuditbotRefused", None, "AuditbotRefused"]


def test_streamed_bodies_are_read_when_object_reads_are_allowed(endpoint: str) -> None:
    bucket = unique("bucket")
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"evidence bytes")

    refused = ask(make_broker(endpoint), call("get_object", service="s3", Bucket=bucket, Key="k.txt"))
    assert refused["error"]["Code"] == "AuditbotRefused"
    reply = ask(make_broker(endpoint, s3_get_object=True), call("get_object", service="s3", Bucket=bucket, Key="k.txt"))
    assert reply["ok"] is True
    assert reply["streams"] == ["Body"] and reply["response"]["Body"] == b"evidence bytes"


def test_console_login_needs_a_configured_callable(endpoint: str) -> None:
    message = {"type": "console_login_url", "destination": "https://console.aws.amazon.com/ec2/home"}
    refused = ask(make_broker(endpoint), message)
    assert refused["error"]["Code"] == "AuditbotRefused"
    broker = Broker(BrokerConfig(region=REGION, endpoint_url=endpoint, credentials=FAKE_KEYS),
                    console_login=lambda destination: f"https://signin.test/?to={destination}")
    assert ask(broker, message) == {"ok": True, "url": f"https://signin.test/?to={message['destination']}"}
    assert broker.records[0].operation == "ConsoleLogin" and broker.records[0].error is None
