"""The evidence store: every file a tool saves, with a manifest that says where it came from.

Layout: `<AUDITBOT_EVIDENCE_DIR>/FY<fiscal year>/<UTC date>/<job id>/` holding the files and
`manifest.json`. The manifest is rewritten after every tool run so a crash loses no record of what
was already collected.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MEDIA_TYPES = {".json": "application/json", ".csv": "text/csv", ".pdf": "application/pdf",
               ".png": "image/png", ".txt": "text/plain", ".html": "text/html",
               ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def fiscal_year(when: datetime, start_month: int = 1) -> int:
    """The fiscal year is named by the calendar year in which it ends."""
    return when.year + (1 if start_month > 1 and when.month >= start_month else 0)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class JobEvidence:
    """The evidence folder of one job and its manifest, kept in step."""

    directory: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path, job_id: str, started: datetime, start_month: int, header: dict[str, Any]) -> JobEvidence:
        """Create (or reopen, for a resumed job) the job's folder; the header is written once."""
        directory = root / f"FY{fiscal_year(started, start_month)}" / started.strftime("%Y-%m-%d") / job_id
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / MANIFEST
        if path.exists():
            manifest = json.loads(path.read_text(encoding="utf-8"))
        else:
            manifest = {"manifest_version": 1, **header, "runs": [], "files": []}
        evidence = cls(directory, manifest)
        evidence.save()
        return evidence

    def add_run(self, record: dict[str, Any], produced: list[Path]) -> list[Path]:
        """Move a run's files in (never overwriting), hash them and record the run."""
        kept = []
        for source in produced:
            if not source.is_file():
                continue
            target = self._free_name(source.name)
            shutil.move(str(source), target)
            kept.append(target)
            self.manifest["files"].append({
                "name": target.name, "media_type": media_type(target), "size": target.stat().st_size,
                "sha256": file_digest(target), "tool": record.get("tool"), "run": len(self.manifest["runs"]) + 1,
            })
        record["files"] = [p.name for p in kept]
        self.manifest["runs"].append(record)
        self.save()
        return kept

    def finish(self, **fields: Any) -> Path:
        self.manifest.update(fields)
        return self.save()

    def save(self) -> Path:
        path = self.directory / MANIFEST
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.manifest, indent=2, sort_keys=True, default=str), encoding="utf-8")
        os.replace(tmp, path)
        return path

    def _free_name(self, name: str) -> Path:
        target = self.directory / name
        stem, suffix, n = target.stem, target.suffix, 2
        while target.exists() or target.name == MANIFEST:
            target = self.directory / f"{stem}-{n}{suffix}"
            n += 1
        return target
