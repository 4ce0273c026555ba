"""The evidence store's parts as configured: the signing key, the write-once bucket, the renewal policy."""

from __future__ import annotations

from typing import Any

import boto3

from workers.evidence_s3 import ObjectLockStore
from workers.freshness import RenewalPolicy
from workers.settings import Settings
from workers.signing import Signer


def renewal_policy(settings: Settings) -> RenewalPolicy:
    return RenewalPolicy(default=settings.auditbot_evidence_renewal,
                         by_tool=dict(settings.auditbot_evidence_renewal_by_tool),
                         start_month=settings.auditbot_fiscal_year_start_month)


def evidence_store(settings: Settings) -> ObjectLockStore | None:
    """The bucket named by AUDITBOT_EVIDENCE_BUCKET, reached with the worker's own AWS credentials."""
    if not settings.auditbot_evidence_bucket:
        return None
    client = boto3.session.Session(region_name=settings.region).client("s3", endpoint_url=settings.aws_endpoint_url)
    return ObjectLockStore(client, settings.auditbot_evidence_bucket, settings.auditbot_evidence_retention_days)


def evidence_parts(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `JobEvidence.open`."""
    return {"signer": Signer.load_or_create(settings.evidence_key_path), "store": evidence_store(settings),
            "policy": renewal_policy(settings)}
