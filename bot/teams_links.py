"""Short-lived signed links to evidence files, served by `auditbot web` at `GET /evidence/...`.

Teams bots cannot put files into channels without Graph, so every evidence file is linked from a
card. A link names a path under `AUDITBOT_EVIDENCE_DIR`, an expiry, and an HMAC-SHA256 of both. The
key is derived from `TEAMS_APP_PASSWORD` (a secret both the workers and the web process already
hold), so no new secret needs distributing; rotating the password invalidates old links, which are
short-lived anyway. An altered path, expiry or signature, or a link past its expiry, is refused (403).

When the evidence store is S3 (`AUDITBOT_EVIDENCE_BUCKET`), a file the manifest records as stored there
is linked by an S3 presigned URL of its exact object version instead, with the same lifetime.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from workers.evidence import MANIFEST
from workers.settings import Settings, require

LINK_TTL_SECONDS = 24 * 3600
ROUTE = "/evidence/"
KEY_LABEL = b"auditbot evidence links v1"


class LinkRefused(Exception):
    """A link that is altered, expired or points outside the evidence directory."""


@dataclass(frozen=True)
class EvidenceLinks:
    """Signs and checks links for one evidence directory and one public base URL."""

    key: bytes
    public_url: str
    root: Path
    s3: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceLinks:
        require(settings, "TEAMS_APP_PASSWORD")
        password = settings.teams_app_password.get_secret_value().encode()  # type: ignore[union-attr]
        s3 = None
        if settings.auditbot_evidence_bucket:
            import boto3
            from botocore.config import Config

            s3 = boto3.client("s3", region_name=settings.region, endpoint_url=settings.aws_endpoint_url,
                              config=Config(signature_version="s3v4"))
        return cls(hmac.new(password, KEY_LABEL, hashlib.sha256).digest(), settings.public_url,
                   settings.auditbot_evidence_dir.resolve(), s3)

    def _signature(self, relative: str, expires: int) -> str:
        return hmac.new(self.key, f"{relative}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def url_for(self, path: Path, ttl: int = LINK_TTL_SECONDS) -> str:
        stored = self._stored(path) if self.s3 is not None else None
        if stored:
            params = {"Bucket": stored["bucket"], "Key": stored["key"]}
            if stored.get("version_id"):
                params["VersionId"] = stored["version_id"]
            return self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
        relative = path.resolve().relative_to(self.root).as_posix()
        expires = int(time.time()) + ttl
        query = urlencode({"expires": expires, "sig": self._signature(relative, expires)})
        return f"{self.public_url}{ROUTE}{quote(relative)}?{query}"

    @staticmethod
    def _stored(path: Path) -> dict[str, Any] | None:
        """Where the job's manifest says S3 keeps this file, if it does."""
        manifest = path.parent / MANIFEST
        if not manifest.is_file():
            return None
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        return next((f["stored"] for f in files if f.get("name") == path.name and f.get("stored")), None)

    def resolve(self, relative: str, expires: str | None, signature: str | None) -> Path:
        """The file a link names, or `LinkRefused`; the signature is compared in constant time."""
        if not expires or not expires.isdigit() or not signature:
            raise LinkRefused("incomplete link")
        if not hmac.compare_digest(self._signature(relative, int(expires)), signature):
            raise LinkRefused("bad signature")
        if int(expires) < time.time():
            raise LinkRefused("expired")
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise LinkRefused("outside the evidence directory")
        return path
