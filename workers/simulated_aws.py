"""Simulated AWS: moto in server mode on loopback, and the demo estate seeded into it.

Used by `auditbot chat --simulated-aws`, `auditbot demo`, tool selftests and the test suite.
moto keeps its backends per *process*: every `SimulatedAWS` started in one process serves the
same state, and `reset()` clears it for all of them.

Clients made here carry fixed fake keys and ignore the environment's AWS profile, config and
credential files, so nothing here can ever sign a request with real credentials.
"""

from __future__ import annotations

import ctypes
import io
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import boto3
import botocore.session
import httpx
from botocore.client import BaseClient
from moto.server import ThreadedMotoServer

FAKE_CREDENTIALS: dict[str, str] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DEFAULT_REGION = "us-east-1"
PR_SET_PDEATHSIG = 1

# CloudWatch Logs PutLogEvents limits: events per call, bytes per call (message + 26 each), time span.
_MAX_BATCH_EVENTS = 10_000
_MAX_BATCH_BYTES = 1_048_576
_EVENT_OVERHEAD_BYTES = 26
_MAX_BATCH_SPAN_MS = 24 * 3600 * 1000


def isolated_session() -> boto3.session.Session:
    """A boto3 session with the fake keys that reads no AWS_PROFILE and no ~/.aws files.

    Explicit keys alone are not enough: a missing or odd profile in the environment would still
    be read (and fail) when a client is made.
    """
    core = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    return boto3.session.Session(botocore_session=core, **FAKE_CREDENTIALS)


class SimulatedAWS:
    """A moto server on 127.0.0.1 and a free port; start/stop or use as a context manager."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None
        self._session = isolated_session()
        self._session_lock = threading.Lock()  # boto3 sessions are not safe to make clients from in parallel

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("SimulatedAWS is not started")
        return self._endpoint_url

    @property
    def credentials(self) -> dict[str, str]:
        """Fake static keys, as boto3 client/session keyword arguments."""
        return dict(FAKE_CREDENTIALS)

    def start(self) -> str:
        """Start the server (port 0: the OS picks a free one) and return its endpoint URL."""
        if self._server is not None:
            return self.endpoint_url
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per AWS call is noise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint_url = f"http://{host}:{port}"
        return self._endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._server = None
        self._endpoint_url = None

    def reset(self) -> None:
        """Forget every simulated resource (in this whole process, see the module docstring)."""
        httpx.post(f"{self.endpoint_url}/moto-api/reset", timeout=30).raise_for_status()

    def client(self, service: str, region: str = DEFAULT_REGION) -> BaseClient:
        """A boto3 client for `service` at the simulated endpoint, signed with the fake keys."""
        with self._session_lock:
            return self._session.client(service, region_name=region, endpoint_url=self.endpoint_url)

    def __enter__(self) -> SimulatedAWS:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class SimulatedAWSProcess(SimulatedAWS):
    """The same simulated AWS in a process of its own, so its state is isolated from this process's.

    Selftests use it: they reset and write freely without touching a chat session's demo estate or
    a test's fixtures, which share the in-process moto backends.
    """

    def __init__(self) -> None:
        super().__init__()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        if self._process is not None:
            return self.endpoint_url
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_moto_environment(),
            preexec_fn=_die_with_parent,
        )
        self._endpoint_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the simulated AWS process exited with {self._process.returncode}")
            try:
                httpx.get(f"{self._endpoint_url}/moto-api/", timeout=1)
                return self._endpoint_url
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the simulated AWS process did not start within 30 s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None
        self._endpoint_url = None


def _die_with_parent() -> None:
    """The moto process ends with the process that started it, even one that leaves by os._exit (an RQ
    work-horse), so no simulated AWS outlives its worker."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _moto_environment() -> dict[str, str]:
    """No real credential or profile reaches the simulated AWS process."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {
        "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
    }


def seed_demo_data(
    sim_or_endpoint: SimulatedAWS | str, region: str = DEFAULT_REGION, log_events: int = 12_500
) -> dict[str, Any]:
    """Create the demo estate on a fresh simulated server and return a summary of what was made.

    The default `log_events` is above moto's (and AWS's) 10,000-event page, so reading
    `prod-app-logs` in full needs pagination.
    """
    endpoint = sim_or_endpoint.endpoint_url if isinstance(sim_or_endpoint, SimulatedAWS) else sim_or_endpoint
    session = isolated_session()

    def client(service: str) -> BaseClient:
        return session.client(service, region_name=region, endpoint_url=endpoint)

    return {
        "region": region,
        "logs": _seed_logs(client("logs"), log_events),
        "dynamodb": _seed_dynamodb(client("dynamodb")),
        "rds": _seed_rds(client("rds")),
        "s3": _seed_s3(client("s3"), region),
        "iam": _seed_iam(client("iam")),
        "ec2": _seed_ec2(client("ec2")),
        "lambda": _seed_lambda(
            client("lambda"), client("iam").get_role(RoleName="lambda-exec")["Role"]["Arn"]
        ),
    }


# --- CloudWatch Logs -------------------------------------------------------------------------------

_PATHS = [
    "/api/orders",
    "/api/orders/{n}",
    "/api/users/{n}",
    "/api/cart",
    "/login",
    "/health",
    "/static/app.js",
]
_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)",
    "curl/8.5.0",
    "ELB-HealthChecker/2.0",
]
_ERRORS = [
    "payment gateway timeout after 30000ms",
    "database connection pool exhausted",
    "NullPointerException in OrderService.checkout",
    "upstream returned 502 from inventory-service",
]


def _log_line(rng: random.Random, ts_ms: int) -> str:
    """One application log line: mostly HTTP access lines, about 3% ERROR and 2% WARN."""
    when = datetime.fromtimestamp(ts_ms / 1000, UTC)
    stamp = when.isoformat(timespec="milliseconds")
    roll = rng.random()
    if roll < 0.03:
        return f"{stamp} ERROR [orders] {rng.choice(_ERRORS)} request_id={rng.getrandbits(64):016x}"
    if roll < 0.05:
        return f"{stamp} WARN [auth] slow login user_id={rng.randint(1, 9999)}"
    status = rng.choices([200, 201, 302, 404, 500], weights=[80, 6, 6, 6, 2])[0]
    path = rng.choice(_PATHS).format(n=rng.randint(1000, 99999))
    return (
        f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)} - - [{when:%d/%b/%Y:%H:%M:%S +0000}] "
        f'"{rng.choice(["GET", "GET", "GET", "POST"])} {path} HTTP/1.1" {status} {rng.randint(120, 48_000)} '
        f'{rng.randint(2, 900)}ms "{rng.choice(_AGENTS)}"'
    )


def _batches(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Split time-ordered events into PutLogEvents-sized batches (count, bytes and 24 h span)."""
    batch: list[dict[str, Any]] = []
    size = 0
    for event in events:
        event_size = len(event["message"].encode()) + _EVENT_OVERHEAD_BYTES
        if batch and (
            len(batch) >= _MAX_BATCH_EVENTS
            or size + event_size > _MAX_BATCH_BYTES
            or event["timestamp"] - batch[0]["timestamp"] > _MAX_BATCH_SPAN_MS
        ):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        yield batch


def _put_events(logs: BaseClient, group: str, stream: str, events: list[dict[str, Any]]) -> None:
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    for batch in _batches(events):
        response = logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
        if response.get("rejectedLogEventsInfo"):
            raise RuntimeError(f"{group}/{stream}: events rejected: {response['rejectedLogEventsInfo']}")


def _seed_logs(logs: BaseClient, count: int) -> dict[str, int]:
    """`prod-app-logs` spread over the last 7 days (moto rejects events older than 14 days)."""
    rng = random.Random(20240501)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    # A margin at both ends keeps every event inside a "last 7 days" query made a little later.
    oldest_ms, newest_ms = now_ms - 7 * 86_400_000 + 600_000, now_ms - 60_000
    streams = ["web-1/app", "web-2/app"]
    stamps: dict[str, list[int]] = {name: [] for name in streams}
    for i in range(count):
        stamps[streams[i % len(streams)]].append(rng.randint(oldest_ms, newest_ms))
    logs.create_log_group(logGroupName="prod-app-logs")
    logs.put_retention_policy(logGroupName="prod-app-logs", retentionInDays=90)
    for stream, times in stamps.items():
        _put_events(
            logs,
            "prod-app-logs",
            stream,
            [{"timestamp": t, "message": _log_line(rng, t)} for t in sorted(times)],
        )

    audit = [
        ("ConsoleLogin", "alice"),
        ("CreateUser", "alice"),
        ("PutBucketPolicy", "bob"),
        ("ModifyDBInstance", "alice"),
        ("DeleteTrail", "carol"),
        ("AttachRolePolicy", "alice"),
    ]
    start = now_ms - 3 * 86_400_000
    trail = [
        {
            "timestamp": start + i * 3_600_000,
            "message": json.dumps(
                {
                    "eventName": name,
                    "userIdentity": {"userName": user},
                    "sourceIPAddress": f"203.0.113.{10 + i}",
                    "awsRegion": "us-east-1",
                }
            ),
        }
        for i, (name, user) in enumerate(audit)
    ]
    logs.create_log_group(logGroupName="prod-audit-trail")
    _put_events(logs, "prod-audit-trail", "cloudtrail", trail)
    return {"prod-app-logs": count, "prod-audit-trail": len(trail)}


# --- DynamoDB --------------------------------------------------------------------------------------


def _seed_dynamodb(ddb: BaseClient) -> dict[str, int]:
    """`user-sessions` (no point-in-time recovery) and `orders` (with it): an audit finding to show."""
    ddb.create_table(
        TableName="user-sessions",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "session_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "session_id", "AttributeType": "S"}],
    )
    ddb.create_table(
        TableName="orders",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer_id", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "S"},
        ],
    )
    ddb.update_continuous_backups(
        TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    users = ["alice", "bob", "carol", "dave", "erin"]
    for n, user in enumerate(users):
        ddb.put_item(
            TableName="user-sessions",
            Item={
                "session_id": {"S": f"sess-{n:04d}"},
                "user": {"S": user},
                "expires_at": {"N": str(1_900_000_000 + n)},
            },
        )
    orders = [(f"cust-{n % 3:03d}", f"ord-{1000 + n}", 19.99 + n * 7) for n in range(8)]
    for customer, order, total in orders:
        ddb.put_item(
            TableName="orders",
            Item={
                "customer_id": {"S": customer},
                "order_id": {"S": order},
                "total": {"N": f"{total:.2f}"},
                "status": {"S": "shipped"},
            },
        )
    return {"user-sessions": len(users), "orders": len(orders)}


# --- RDS -------------------------------------------------------------------------------------------


def _config_tags(config: dict[str, Any]) -> list[dict[str, str]]:
    """The instance configuration at snapshot time, as `config:<DescribeDBInstances field>` tags.

    DescribeDBSnapshots has no Multi-AZ or instance class field, and moto leaves the snapshot's
    BackupRetentionPeriod out; only AllocatedStorage differs between snapshots by itself. These
    tags (as a snapshot-tagging backup job would write) make the other differences visible too.
    """
    return [{"Key": f"config:{key}", "Value": str(value)} for key, value in config.items()]


def _seed_rds(rds: BaseClient) -> dict[str, Any]:
    """`prod-db`, snapshot `snap-old`, then the instance upsized, then `snap-new`."""
    before = {
        "AllocatedStorage": 20,
        "BackupRetentionPeriod": 1,
        "MultiAZ": False,
        "DBInstanceClass": "db.t3.micro",
    }
    after = {
        "AllocatedStorage": 100,
        "BackupRetentionPeriod": 7,
        "MultiAZ": True,
        "DBInstanceClass": "db.m5.large",
    }
    rds.create_db_instance(
        DBInstanceIdentifier="prod-db",
        Engine="postgres",
        EngineVersion="15.4",
        MasterUsername="appadmin",
        MasterUserPassword="demo-only-not-a-secret",
        StorageEncrypted=True,
        **before,
    )
    rds.create_db_snapshot(
        DBInstanceIdentifier="prod-db", DBSnapshotIdentifier="snap-old", Tags=_config_tags(before)
    )
    rds.modify_db_instance(DBInstanceIdentifier="prod-db", ApplyImmediately=True, **after)
    rds.create_db_snapshot(
        DBInstanceIdentifier="prod-db", DBSnapshotIdentifier="snap-new", Tags=_config_tags(after)
    )
    return {
        "instances": ["prod-db"],
        "snapshots": ["snap-old", "snap-new"],
        "snapshot_changes": {key: [before[key], after[key]] for key in before},
    }


# --- S3 --------------------------------------------------------------------------------------------


def _seed_s3(s3: BaseClient, region: str) -> dict[str, Any]:
    """Three buckets: encrypted logs, versioned evidence, and a public website."""
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    buckets = ["acme-prod-logs", "acme-audit-evidence", "acme-public-site"]
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket, **location)
    s3.put_bucket_encryption(
        Bucket="acme-prod-logs",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_object(Bucket="acme-prod-logs", Key="alb/2024/05/01/access.log.gz", Body=b"\x1f\x8b demo")
    s3.put_bucket_versioning(Bucket="acme-audit-evidence", VersioningConfiguration={"Status": "Enabled"})
    for body in (b"draft", b"final"):
        s3.put_object(Bucket="acme-audit-evidence", Key="FY2024/access-review.csv", Body=body)
    s3.put_bucket_website(
        Bucket="acme-public-site", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    s3.put_object(Bucket="acme-public-site", Key="index.html", Body=b"<h1>ACME</h1>", ContentType="text/html")
    s3.put_bucket_policy(
        Bucket="acme-public-site",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PublicRead",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::acme-public-site/*",
                    }
                ],
            }
        ),
    )
    return {"buckets": buckets, "versioned": ["acme-audit-evidence"], "public": ["acme-public-site"]}


# --- IAM -------------------------------------------------------------------------------------------


def _trust(principal: dict[str, str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def _seed_iam(iam: BaseClient) -> dict[str, Any]:
    """Console users alice (virtual MFA), bob and carol (no MFA); a group; a read-only role."""
    users = ["alice", "bob", "carol"]
    for user in users:
        iam.create_user(UserName=user, Tags=[{"Key": "team", "Value": "platform"}])
        iam.create_login_profile(UserName=user, Password="Demo-only-not-a-secret-1")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_access_key(UserName="bob")  # an old-style programmatic key, for key-age checks
    # moto loads no AWS-managed policies by default, so the read-only policy is the account's own.
    policy_arn = iam.create_policy(
        PolicyName="acme-readonly",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "s3:Get*",
                            "s3:List*",
                            "ec2:Describe*",
                            "rds:Describe*",
                            "logs:Describe*",
                            "logs:FilterLogEvents",
                            "iam:Get*",
                            "iam:List*",
                        ],
                        "Resource": "*",
                    }
                ],
            }
        ),
    )["Policy"]["Arn"]
    iam.create_group(GroupName="developers")
    for user in ("bob", "carol"):
        iam.add_user_to_group(GroupName="developers", UserName=user)
    iam.attach_group_policy(GroupName="developers", PolicyArn=policy_arn)
    account = policy_arn.split(":")[4]
    iam.create_role(
        RoleName="auditbot-readonly", AssumeRolePolicyDocument=_trust({"AWS": f"arn:aws:iam::{account}:root"})
    )
    iam.attach_role_policy(RoleName="auditbot-readonly", PolicyArn=policy_arn)
    iam.create_role(
        RoleName="lambda-exec", AssumeRolePolicyDocument=_trust({"Service": "lambda.amazonaws.com"})
    )
    return {
        "users": users,
        "mfa_users": ["alice"],
        "groups": ["developers"],
        "roles": ["auditbot-readonly", "lambda-exec"],
        "policies": ["acme-readonly"],
    }


# --- EC2 and Lambda --------------------------------------------------------------------------------

# One of moto's built-in AMIs; looking one up with DescribeImages would cost most of a second.
_AMAZON_LINUX_2_AMI = "ami-04681a1dbd79675a5"


def _seed_ec2(ec2: BaseClient) -> dict[str, Any]:
    """Two web instances behind a security group that opens HTTPS to the world and SSH to the VPC."""
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group_id = ec2.create_security_group(GroupName="web-sg", Description="web tier", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
        ],
    )
    instances = ec2.run_instances(
        ImageId=_AMAZON_LINUX_2_AMI,
        InstanceType="t3.small",
        MinCount=2,
        MaxCount=2,
        SecurityGroupIds=[group_id],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "env", "Value": "prod"}]}],
    )["Instances"]
    ids = [instance["InstanceId"] for instance in instances]
    for n, instance_id in enumerate(ids, start=1):
        ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "Name", "Value": f"web-{n}"}])
    return {"instances": ids, "security_groups": [group_id]}


def _seed_lambda(lam: BaseClient, role_arn: str) -> dict[str, Any]:
    """One function; moto creates it without Docker (only invoking would need Docker)."""
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {'shipped': len(event)}\n")
    lam.create_function(
        FunctionName="audit-log-shipper",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": package.getvalue()},
        Environment={"Variables": {"TARGET_BUCKET": "acme-prod-logs"}},
    )
    return {"functions": ["audit-log-shipper"]}
