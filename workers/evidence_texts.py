"""The evidence store's user-facing texts, as small named functions."""

from __future__ import annotations

from typing import Any


def manifest_comment(manifest: dict[str, Any]) -> str:
    text = ("Manifest: the request, the AWS account and region, every AWS call, the time window, the tool "
            "versions and approvers, and the sha256 of every file.")
    signing = manifest.get("signing") or {}
    if signing:
        text += (f" Signed with {signing.get('algorithm')} key {signing.get('fingerprint')} "
                 "(manifest.json.sig); check a copy with `auditbot evidence verify FOLDER`.")
    store = manifest.get("store") or {}
    if store.get("kind") == "s3":
        text += (f" Stored write-once (S3 Object Lock, compliance mode, {store.get('retention_days')} days) in "
                 f"s3://{store.get('bucket')}/{store.get('prefix')}.")
    return text


def signature_title(job_id: str) -> str:
    return f"manifest.json.sig ({job_id}): Ed25519 signature of manifest.json"
