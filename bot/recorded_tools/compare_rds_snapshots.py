"""Compare two RDS DB snapshots and report every setting that differs (storage, backups, Multi-AZ ...)."""

from deepdiff import DeepDiff

PARAMETERS = {
    "type": "object",
    "properties": {
        "snapshot_a": {"type": "string", "description": "the older snapshot identifier"},
        "snapshot_b": {"type": "string", "description": "the newer snapshot identifier"},
    },
    "required": ["snapshot_a", "snapshot_b"],
}

# Identity and timing differ between any two snapshots; they are not configuration changes.
NOT_SETTINGS = {"DBSnapshotIdentifier", "DBSnapshotArn", "SnapshotCreateTime", "OriginalSnapshotCreateTime",
                "InstanceCreateTime", "PercentProgress", "DbiResourceId", "SnapshotTarget", "TagList",
                "SnapshotDatabaseTime"}


def settings_of(rds, identifier):
    """The snapshot's settings, plus `config:*` tags (the instance's settings at snapshot time) it lacks."""
    snapshot = rds.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"][0]
    settings = {k: v for k, v in snapshot.items() if k not in NOT_SETTINGS}
    tags = rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"]).get("TagList", [])
    for tag in tags:
        if tag["Key"].startswith("config:"):
            settings.setdefault(tag["Key"][len("config:"):], tag["Value"])
    return settings


def run(ctx, snapshot_a, snapshot_b):
    rds = ctx.client("rds")
    ctx.progress(f"Reading {snapshot_a} and {snapshot_b} ...")
    old, new = settings_of(rds, snapshot_a), settings_of(rds, snapshot_b)
    diff = DeepDiff(old, new, ignore_order=True, verbose_level=2)
    changes = []
    for path, change in diff.get("values_changed", {}).items():
        changes.append({"setting": path.removeprefix("root"), "old": change["old_value"], "new": change["new_value"]})
    for path, value in diff.get("dictionary_item_added", {}).items():
        changes.append({"setting": path.removeprefix("root"), "old": None, "new": value})
    for path, value in diff.get("dictionary_item_removed", {}).items():
        changes.append({"setting": path.removeprefix("root"), "old": value, "new": None})
    for path, change in diff.get("type_changes", {}).items():
        changes.append({"setting": path.removeprefix("root"), "old": change["old_value"],
                        "new": change["new_value"]})
    changes.sort(key=lambda c: c["setting"])
    name = f"rds_snapshot_diff_{snapshot_a}_vs_{snapshot_b}.json"
    ctx.save_json(name, {"snapshot_a": snapshot_a, "snapshot_b": snapshot_b, "changes": changes,
                         "settings_a": old, "settings_b": new})
    listed = "; ".join(f"{c['setting']}: {c['old']} -> {c['new']}" for c in changes[:12])
    return {"summary": f"{len(changes)} settings differ between {snapshot_a} and {snapshot_b}: {listed}",
            "changes": changes, "file": name}


def selftest(ctx):
    rds = ctx.client("rds")
    rds.create_db_instance(DBInstanceIdentifier="st-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="selftest-password-1")
    rds.create_db_snapshot(DBInstanceIdentifier="st-db", DBSnapshotIdentifier="st-old",
                           Tags=[{"Key": "config:MultiAZ", "Value": "false"}])
    rds.modify_db_instance(DBInstanceIdentifier="st-db", AllocatedStorage=50, ApplyImmediately=True)
    rds.create_db_snapshot(DBInstanceIdentifier="st-db", DBSnapshotIdentifier="st-new",
                           Tags=[{"Key": "config:MultiAZ", "Value": "true"}])
    result = run(ctx, snapshot_a="st-old", snapshot_b="st-new")
    settings = {c["setting"]: c for c in result["changes"]}
    assert settings["['AllocatedStorage']"]["new"] == 50, result["changes"]
    assert settings["['MultiAZ']"]["new"] == "true", result["changes"]
