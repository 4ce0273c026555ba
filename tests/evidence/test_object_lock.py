"""The write-once store on moto, which enforces Object Lock: version ids, refused deletes, refused buckets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.evidence.conftest import open_evidence
from workers.evidence_s3 import StoreError
from workers.evidence_verify import verify_folder
from workers.signing import Signer


@pytest.fixture
def s3(isolated_aws):
    return isolated_aws.client("s3")


@pytest.fixture
def locked_bucket(s3) -> str:
    name = f"evidence-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@pytest.fixture
def store_settings(settings, isolated_aws, locked_bucket):
    return settings.model_copy(update={"aws_endpoint_url": isolated_aws.endpoint_url,
                                       "auditbot_evidence_bucket": locked_bucket,
                                       "auditbot_evidence_retention_days": 30})


def run_once(evidence, scratch: Path, files: dict[str, str], tool: str = "t") -> list[Path]:
    scratch.mkdir(exist_ok=True)
    for name, text in files.items():
        (scratch / name).write_text(text)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record = {"tool": tool, "version": 1, "started": now, "ended": now, "params": {}, "api_calls": []}
    return evidence.add_run(record, sorted(scratch.iterdir()))


def test_each_file_is_written_once_with_its_version_and_s3_refuses_deletes(store_settings, s3, tmp_path):
    evidence = open_evidence(store_settings)
    run_once(evidence, tmp_path / "run1", {"users.csv": "name\nalice\n"})

    (entry,) = evidence.manifest["files"]
    stored = entry["stored"]
    key = evidence.key_prefix + "users.csv"
    assert stored["key"] == key and stored["mode"] == "COMPLIANCE" and stored["version_id"]
    head = s3.head_object(Bucket=store_settings.auditbot_evidence_bucket, Key=key, VersionId=stored["version_id"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(days=29)
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=store_settings.auditbot_evidence_bucket, Key=key, VersionId=stored["version_id"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(StoreError, match="already exists; evidence is never replaced"):
        evidence.store.put(key, evidence.directory / "users.csv", entry["sha256"])


def test_the_signed_manifest_goes_to_the_bucket_as_saved(store_settings, s3, tmp_path):
    evidence = open_evidence(store_settings)
    run_once(evidence, tmp_path / "run1", {"users.csv": "name\nalice\n"})

    evidence.finish()

    bucket, prefix = store_settings.auditbot_evidence_bucket, evidence.key_prefix
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [prefix + name for name in ("manifest.json", "manifest.json.sig", "runs/0001.json", "users.csv")]
    for name in ("manifest.json", "manifest.json.sig"):
        body = s3.get_object(Bucket=bucket, Key=prefix + name)["Body"].read()
        assert body == (evidence.directory / name).read_bytes(), name
    assert (evidence.directory / "store-receipt.json").exists()
    assert verify_folder(evidence.directory, evidence.signer.public).ok


def test_a_bucket_without_object_lock_is_refused_and_nothing_is_written(store_settings, s3, tmp_path):
    plain = f"plain-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=plain)
    evidence = open_evidence(store_settings.model_copy(update={"auditbot_evidence_bucket": plain}))

    problem = evidence.take_store_problem()
    run_once(evidence, tmp_path / "run1", {"users.csv": "name\nalice\n"})
    evidence.finish()

    assert problem.startswith(f"The evidence bucket {plain} is not write-once: Object Lock is not enabled on it. "
                              "auditbot wrote nothing to it")
    assert s3.list_objects_v2(Bucket=plain)["KeyCount"] == 0
    assert evidence.manifest["store"] == {"kind": "local folder", "refused": problem}
    assert evidence.take_store_problem() is None, "told once"
    assert verify_folder(evidence.directory, evidence.signer.public).ok, "the local folder is complete"


def test_a_job_resumed_on_another_machine_rebuilds_its_folder_from_the_bucket(store_settings, tmp_path):
    first = open_evidence(store_settings)
    run_once(first, tmp_path / "run1", {"users.csv": "name\nalice\n", "policy.json": "{}"})
    other_machine = store_settings.model_copy(update={"auditbot_evidence_dir": tmp_path / "machine-b",
                                                      "auditbot_evidence_key": tmp_path / "machine-b.pem"})

    second = open_evidence(other_machine)
    run_once(second, tmp_path / "run2", {"users.csv": "name\nbob\n"}, tool="u")
    second.finish()

    assert second.directory != first.directory
    assert [f["name"] for f in second.manifest["files"]] == ["policy.json", "users.csv", "users-2.csv"]
    assert [r["tool"] for r in second.manifest["runs"]] == ["t", "u"]
    assert (second.directory / "users.csv").read_text() == "name\nalice\n"
    assert [r["key"] for r in second.manifest["store"]["run_records"]] == [
        second.key_prefix + "runs/0001.json", second.key_prefix + "runs/0002.json"]
    assert second.manifest["collection"] == first.manifest["collection"]
    assert verify_folder(second.directory, Signer.load_or_create(tmp_path / "machine-b.pem").public).ok
