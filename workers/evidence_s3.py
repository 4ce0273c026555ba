"""The write-once evidence store: an S3 bucket with Object Lock in compliance mode.

Each object is written once: `If-None-Match: *` refuses to replace an existing key, the SHA-256
checksum makes S3 reject bytes that changed on the way, and compliance-mode retention until
`retain_until` makes S3 itself refuse to delete or overwrite that version, for every user including
the account root. The version id S3 returns is recorded with each object.

A bucket is checked before anything is written to it: without Object Lock enabled it is not called
write-once, and nothing is written (`NotWriteOnce`). With several workers on several machines, this
bucket is the shared store: each run's files and record go here as they are made, and a job resumed on
another machine rebuilds its folder from them (`JobEvidence.open`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

MODE = "COMPLIANCE"


class NotWriteOnce(Exception):
    """The bucket cannot be relied on to keep evidence unchanged; nothing was written to it."""


class StoreError(Exception):
    """S3 refused a write, or an object read back is not the one recorded."""


def not_write_once(bucket: str, why: str) -> str:
    return (f"The evidence bucket {bucket} is not write-once: {why}. auditbot wrote nothing to it; the evidence "
            f"stays in the local folder only. Create the bucket with Object Lock enabled "
            f"(aws s3api create-bucket --object-lock-enabled-for-bucket) to store evidence there.")


@dataclass
class ObjectLockStore:
    """Evidence objects under `bucket`, written once with compliance retention of `retain_days`."""

    client: BaseClient
    bucket: str
    retain_days: int
    _checked: bool = False

    def check(self) -> None:
        """Refuse, before any write, a bucket whose Object Lock is not enabled."""
        if self._checked:
            return
        try:
            config = self.client.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ObjectLockConfigurationNotFoundError":
                raise NotWriteOnce(not_write_once(self.bucket, "Object Lock is not enabled on it")) from None
            raise NotWriteOnce(not_write_once(self.bucket, f"its Object Lock configuration cannot be read "
                                                           f"({code or exc})")) from None
        if config.get("ObjectLockEnabled") != "Enabled":
            raise NotWriteOnce(not_write_once(self.bucket, "Object Lock is not enabled on it"))
        self._checked = True

    def retain_until(self) -> datetime:
        return (datetime.now(UTC) + timedelta(days=self.retain_days)).replace(microsecond=0)

    def put(self, key: str, path: Path, sha256: str) -> dict[str, Any]:
        """Write the file once under `key`; return where it is and until when S3 keeps it."""
        self.check()
        until = self.retain_until()
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        try:
            with path.open("rb") as body:
                reply = self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*", ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=checksum, ObjectLockMode=MODE, ObjectLockRetainUntilDate=until)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "PreconditionFailed":
                raise StoreError(f"s3://{self.bucket}/{key} already exists; evidence is never replaced") from None
            raise StoreError(f"S3 refused to store s3://{self.bucket}/{key}: {code or exc}") from None
        return {"bucket": self.bucket, "key": key, "version_id": reply.get("VersionId"), "mode": MODE,
                "retain_until": until.isoformat()}

    def put_json(self, key: str, value: Any, scratch: Path) -> dict[str, Any]:
        """Write a JSON record once (through a scratch file, so the bytes hashed are the bytes sent)."""
        scratch.write_text(json.dumps(value, indent=1, sort_keys=True, default=str), encoding="utf-8")
        try:
            return self.put(key, scratch, hashlib.sha256(scratch.read_bytes()).hexdigest())
        finally:
            scratch.unlink(missing_ok=True)

    def keys(self, prefix: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str, version_id: str | None = None) -> tuple[bytes, str | None]:
        """An object's bytes and version id (the given version, or the latest)."""
        extra = {"VersionId": version_id} if version_id else {}
        reply = self.client.get_object(Bucket=self.bucket, Key=key, **extra)
        return reply["Body"].read(), reply.get("VersionId")

    def fetch(self, key: str, version_id: str | None, sha256: str, target: Path) -> None:
        """Download one recorded object and check it is the one recorded."""
        data, _ = self.read(key, version_id)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise StoreError(f"s3://{self.bucket}/{key} does not match the sha256 recorded for it")
        target.write_bytes(data)
