"""Inventory common AWS resources (EC2, S3, IAM, RDS, Lambda, DynamoDB, logs, KMS, CloudTrail) as JSON or CSV.

Read-only. Every type is read through all its pages. A type that cannot be read (for example AccessDenied) is
reported under `not_collected` with the reason, so a missing permission never reads as "no resources".
"""

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

PARAMETERS = {
    "type": "object",
    "properties": {
        "resource_types": {
            "type": "array",
            "items": {"type": "string", "enum": [
                "ec2_instances", "security_groups", "vpcs", "s3_buckets", "iam_users", "iam_roles",
                "rds_instances", "rds_snapshots", "lambda_functions", "dynamodb_tables", "log_groups",
                "kms_keys", "cloudtrail_trails",
            ]},
            "description": "which resource types to list; all of them when omitted",
        },
        "format": {"type": "string", "enum": ["json", "csv"], "default": "json"},
    },
}
RESOURCE_TYPES: list[str] = PARAMETERS["properties"]["resource_types"]["items"]["enum"]
CSV_COLUMNS = ["type", "id", "name", "arn", "region", "created"]

Row = dict[str, Any]


def run(ctx, resource_types=None, format="json"):
    wanted = list(dict.fromkeys(resource_types or RESOURCE_TYPES))
    unknown = [t for t in wanted if t not in COLLECTORS]
    if unknown:
        raise ValueError(f"Unknown resource types {unknown}; choose from {RESOURCE_TYPES}")
    resources: dict[str, list[Row]] = {}
    not_collected: dict[str, str] = {}
    for resource_type in wanted:
        ctx.progress(f"Listing {resource_type} ...")
        try:
            resources[resource_type] = list(COLLECTORS[resource_type](ctx))
        except (ClientError, BotoCoreError) as exc:
            not_collected[resource_type] = _reason(exc)
    counts = {t: len(rows) for t, rows in resources.items()}
    file = _save(ctx, format, resources, counts, not_collected)
    return {"summary": _summary(counts, not_collected, file), "counts": counts,
            "not_collected": not_collected, "file": file}


def _save(ctx, format: str, resources: dict[str, list[Row]], counts: dict[str, int],
          not_collected: dict[str, str]) -> str:
    """Write JSON (one list per type, with each item's full description) or CSV (one row per resource)."""
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(row for rows in resources.values() for row in rows)
        ctx.save_text("aws_resource_inventory.csv", buffer.getvalue())
        return "aws_resource_inventory.csv"
    ctx.save_json("aws_resource_inventory.json", {
        "account_id": ctx.account_id, "region": ctx.region,
        "collected_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": counts, "not_collected": not_collected, "resources": resources,
    })
    return "aws_resource_inventory.json"


def _summary(counts: dict[str, int], not_collected: dict[str, str], file: str) -> str:
    listed = ", ".join(f"{t}: {n}" for t, n in counts.items()) or "nothing"
    text = f"Listed {sum(counts.values())} resources ({listed}) to {file}."
    if not_collected:
        text += " Not collected: " + "; ".join(f"{t} ({why})" for t, why in not_collected.items()) + "."
    return text


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)


def _items(client, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under `key`, through all pages."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _iso(value: Any) -> str | None:
    """Timestamps arrive as datetimes, ISO strings or epoch milliseconds (CloudWatch Logs)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).isoformat()
    return value


def _tag(item: Row, key: str = "Name") -> str | None:
    return next((t["Value"] for t in item.get("Tags", []) if t.get("Key") == key), None)


def _row(resource_type: str, item: Row, *, id: str, name: str | None, arn: str | None, region: str | None,
         created: Any = None) -> Row:
    return {"type": resource_type, "id": id, "name": name, "arn": arn, "region": region,
            "created": _iso(created), "details": item}


def _ec2_arn(ctx, kind: str, resource_id: str) -> str:
    return f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:{kind}/{resource_id}"


def _ec2_instances(ctx) -> Iterator[Row]:
    for reservation in _items(ctx.client("ec2"), "describe_instances", "Reservations"):
        for i in reservation.get("Instances", []):
            yield _row("ec2_instances", i, id=i["InstanceId"], name=_tag(i), region=ctx.region,
                       arn=_ec2_arn(ctx, "instance", i["InstanceId"]), created=i.get("LaunchTime"))


def _security_groups(ctx) -> Iterator[Row]:
    for g in _items(ctx.client("ec2"), "describe_security_groups", "SecurityGroups"):
        yield _row("security_groups", g, id=g["GroupId"], name=g.get("GroupName"), region=ctx.region,
                   arn=g.get("SecurityGroupArn") or _ec2_arn(ctx, "security-group", g["GroupId"]))


def _vpcs(ctx) -> Iterator[Row]:
    for v in _items(ctx.client("ec2"), "describe_vpcs", "Vpcs"):
        yield _row("vpcs", v, id=v["VpcId"], name=_tag(v), region=ctx.region,
                   arn=_ec2_arn(ctx, "vpc", v["VpcId"]))


def _s3_buckets(ctx) -> Iterator[Row]:
    for b in _items(ctx.client("s3"), "list_buckets", "Buckets"):
        yield _row("s3_buckets", b, id=b["Name"], name=b["Name"], arn=f"arn:aws:s3:::{b['Name']}",
                   region=b.get("BucketRegion"), created=b.get("CreationDate"))


def _iam_users(ctx) -> Iterator[Row]:
    for u in _items(ctx.client("iam"), "list_users", "Users"):
        yield _row("iam_users", u, id=u["UserId"], name=u["UserName"], arn=u["Arn"], region="global",
                   created=u.get("CreateDate"))


def _iam_roles(ctx) -> Iterator[Row]:
    for r in _items(ctx.client("iam"), "list_roles", "Roles"):
        yield _row("iam_roles", r, id=r["RoleId"], name=r["RoleName"], arn=r["Arn"], region="global",
                   created=r.get("CreateDate"))


def _rds_instances(ctx) -> Iterator[Row]:
    for d in _items(ctx.client("rds"), "describe_db_instances", "DBInstances"):
        yield _row("rds_instances", d, id=d["DBInstanceIdentifier"], name=d["DBInstanceIdentifier"],
                   arn=d.get("DBInstanceArn"), region=ctx.region, created=d.get("InstanceCreateTime"))


def _rds_snapshots(ctx) -> Iterator[Row]:
    for s in _items(ctx.client("rds"), "describe_db_snapshots", "DBSnapshots"):
        yield _row("rds_snapshots", s, id=s["DBSnapshotIdentifier"], name=s["DBSnapshotIdentifier"],
                   arn=s.get("DBSnapshotArn"), region=ctx.region, created=s.get("SnapshotCreateTime"))


def _lambda_functions(ctx) -> Iterator[Row]:
    for f in _items(ctx.client("lambda"), "list_functions", "Functions"):
        yield _row("lambda_functions", f, id=f["FunctionName"], name=f["FunctionName"],
                   arn=f.get("FunctionArn"), region=ctx.region)


def _dynamodb_tables(ctx) -> Iterator[Row]:
    """ListTables gives names only; DescribeTable adds the ARN and creation time auditors ask for."""
    dynamodb = ctx.client("dynamodb")
    for name in _items(dynamodb, "list_tables", "TableNames"):
        t = dynamodb.describe_table(TableName=name)["Table"]
        yield _row("dynamodb_tables", t, id=name, name=name, arn=t.get("TableArn"), region=ctx.region,
                   created=t.get("CreationDateTime"))


def _log_groups(ctx) -> Iterator[Row]:
    for g in _items(ctx.client("logs"), "describe_log_groups", "logGroups"):
        yield _row("log_groups", g, id=g["logGroupName"], name=g["logGroupName"],
                   arn=(g.get("arn") or "").removesuffix(":*") or None, region=ctx.region,
                   created=g.get("creationTime"))


def _kms_keys(ctx) -> Iterator[Row]:
    """Keys have no name of their own; their aliases are what people recognise them by."""
    kms = ctx.client("kms")
    aliases: dict[str, list[str]] = {}
    for a in _items(kms, "list_aliases", "Aliases"):
        if a.get("TargetKeyId"):
            aliases.setdefault(a["TargetKeyId"], []).append(a["AliasName"])
    for k in _items(kms, "list_keys", "Keys"):
        yield _row("kms_keys", k, id=k["KeyId"], name=", ".join(aliases.get(k["KeyId"], [])) or None,
                   arn=k.get("KeyArn"), region=ctx.region)


def _cloudtrail_trails(ctx) -> Iterator[Row]:
    for t in ctx.client("cloudtrail").describe_trails()["trailList"]:  # DescribeTrails does not page
        yield _row("cloudtrail_trails", t, id=t["Name"], name=t["Name"], arn=t.get("TrailARN"),
                   region=t.get("HomeRegion"))


COLLECTORS: dict[str, Callable[[Any], Iterator[Row]]] = {
    "ec2_instances": _ec2_instances, "security_groups": _security_groups, "vpcs": _vpcs,
    "s3_buckets": _s3_buckets, "iam_users": _iam_users, "iam_roles": _iam_roles,
    "rds_instances": _rds_instances, "rds_snapshots": _rds_snapshots, "lambda_functions": _lambda_functions,
    "dynamodb_tables": _dynamodb_tables, "log_groups": _log_groups, "kms_keys": _kms_keys,
    "cloudtrail_trails": _cloudtrail_trails,
}
