"""The evidence store: every file a tool saves, with a signed manifest that says where it came from.

Layout: `<AUDITBOT_EVIDENCE_DIR>/FY<fiscal year>/<UTC date>/<job id>/` holding the files, `manifest.json`
and its ed25519 signature `manifest.json.sig` (`workers.signing`). The manifest is rewritten and
re-signed after every tool run, so a crash loses no record of what was already collected; a job that
goes on (a resumed approval, a follow-up in the thread) reopens the same folder.

With an Object Lock bucket (`AUDITBOT_EVIDENCE_BUCKET`, `workers.evidence_s3`) the same layout is
written there once: each run's files and its record (`runs/0001.json`, holding the manifest's header
too) as the run ends, the manifest and its signature when the job ends. Version ids go into the
manifest and `store-receipt.json`. A job resumed on a machine whose folder lacks its manifest rebuilds
the folder from those run records, so several workers on several machines share one store. A bucket
refused at the start is not written to for the whole job: no evidence is left half in it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from workers.evidence_files import render_pdf, screenshot_record, table_cover
from workers.evidence_notes import NOTES_FILE, take_notes
from workers.evidence_s3 import NotWriteOnce, ObjectLockStore, StoreError
from workers.evidence_window import job_window, run_window
from workers.freshness import RenewalPolicy, fiscal_year
from workers.signing import Signer

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
RECEIPT = "store-receipt.json"
RUNS = "runs/"
SCRATCH = ".run-record.tmp"
UNLISTED = frozenset({MANIFEST, SIGNATURE, RECEIPT})
"""The files of a job folder that the manifest does not list."""
RESERVED = UNLISTED | {NOTES_FILE, SCRATCH}
"""Names an evidence file never takes."""
MANIFEST_VERSION = 2
MEDIA_TYPES = {".json": "application/json", ".csv": "text/csv", ".pdf": "application/pdf",
               ".png": "image/png", ".txt": "text/plain", ".html": "text/html",
               ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _describe(path: Path, tool: Any, run: int) -> dict[str, Any]:
    return {"name": path.name, "media_type": media_type(path), "size": path.stat().st_size,
            "sha256": file_digest(path), "tool": tool, "run": run}


@dataclass
class JobEvidence:
    """The evidence folder of one job and its manifest, kept in step (and in S3, when configured)."""

    directory: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    signer: Signer | None = None
    store: ObjectLockStore | None = None
    policy: RenewalPolicy = field(default_factory=RenewalPolicy)
    key_prefix: str = ""
    store_problem: str | None = None

    @classmethod
    def open(cls, root: Path, job_id: str, started: datetime, start_month: int, header: dict[str, Any], *,
             signer: Signer | None = None, store: ObjectLockStore | None = None,
             policy: RenewalPolicy | None = None) -> JobEvidence:
        """Create (or reopen, for a job that goes on) the job's folder; the header is written once."""
        relative = Path(f"FY{fiscal_year(started, start_month)}") / started.strftime("%Y-%m-%d") / job_id
        evidence = cls(root / relative, signer=signer, store=store,
                       policy=policy or RenewalPolicy(start_month=start_month), key_prefix=relative.as_posix() + "/")
        evidence.directory.mkdir(parents=True, exist_ok=True)
        evidence.manifest = evidence._load(header)
        evidence.save()
        return evidence

    @property
    def signature_path(self) -> Path:
        return self.directory / SIGNATURE

    def take_store_problem(self) -> str | None:
        """What went wrong with the store since last asked, to tell the user once."""
        problem, self.store_problem = self.store_problem, None
        return problem

    def _load(self, header: dict[str, Any]) -> dict[str, Any]:
        path = self.directory / MANIFEST
        if path.exists():
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if (manifest.get("store") or {}).get("kind") != "s3":
                self.store = None
            return manifest
        manifest = {"manifest_version": MANIFEST_VERSION, **header, "runs": [], "files": [],
                    "store": {"kind": "local folder"}}
        if self.signer is not None:
            manifest["signing"] = self.signer.describe()
        if self.store is not None:
            try:
                self.store.check()
                run_records = self._rebuild(manifest)
            except (NotWriteOnce, StoreError, ClientError, BotoCoreError) as exc:
                self.store_problem = str(exc)
                manifest["store"] = {"kind": "local folder", "refused": self.store_problem}
                self.store = None
            else:
                manifest["store"] = {"kind": "s3", "bucket": self.store.bucket, "prefix": self.key_prefix,
                                     "mode": "COMPLIANCE", "retention_days": self.store.retain_days,
                                     "problems": [], "run_records": run_records}
        return manifest

    def _rebuild(self, manifest: dict[str, Any]) -> list[dict[str, Any]]:
        """Bring back the runs another machine already wrote to the store (files checked by sha256);
        return where their records are."""
        assert self.store is not None
        records: list[dict[str, Any]] = []
        for index, key in enumerate(self.store.keys(self.key_prefix + RUNS)):
            data, version_id = self.store.read(key)
            stored = json.loads(data)
            for entry in stored["files"]:
                where = entry.get("stored") or {}
                self.store.fetch(where.get("key", self.key_prefix + entry["name"]), where.get("version_id"),
                                 entry["sha256"], self.directory / entry["name"])
            if index == 0:
                manifest.update({k: v for k, v in stored.get("header", {}).items() if v is not None})
            manifest["runs"].append(stored["run"])
            manifest["files"].extend(stored["files"])
            records.append({"bucket": self.store.bucket, "key": key, "version_id": version_id})
        return records

    def add_run(self, record: dict[str, Any], produced: list[Path]) -> list[Path]:
        """Move a run's files in (never overwriting), check and hash them, add PDFs, record the run."""
        notes, produced = take_notes(produced)
        number = len(self.manifest["runs"]) + 1
        kept: dict[str, Path] = {}
        for source in produced:
            if source.is_file():
                target = self._free_name(source.name)
                shutil.move(str(source), target)
                kept[source.name] = target
        arguments = {**(record.get("defaults") or {}), **(record.get("params") or {})}
        started, ended = datetime.fromisoformat(record["started"]), datetime.fromisoformat(record["ended"])
        record["window"] = run_window(arguments, record.get("api_calls") or [], started)
        record["renew_by"] = self.policy.renew_by(str(record.get("tool")), ended)
        entries = [self._entry(path, notes.get(original), record, number) for original, path in kept.items()]
        problems: list[str] = []
        for original, path in list(kept.items()):
            note = notes.get(original)
            if note and note.get("kind") == "table" and path.suffix.lower() == ".csv":
                pdf = self._table_pdf(path, note, record, entries, number, problems)
                if pdf is not None:
                    kept[pdf.name] = pdf
        if problems:
            record["problems"] = problems
        record["files"] = [e["name"] for e in entries]
        self._store_run(record, entries)
        self.manifest["runs"].append(record)
        self.manifest["files"].extend(entries)
        self.save()
        return list(kept.values())

    def _entry(self, path: Path, note: dict[str, Any] | None, record: dict[str, Any], run: int) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if path.suffix.lower() == ".png":
            extra["screenshot"] = screenshot_record(path, note, record, self.manifest.get("identity") or {})
        if note and note.get("kind") == "table":
            extra["table"] = {"title": note.get("title"), "rows": note.get("rows")}
        return {**_describe(path, record.get("tool"), run), **extra}

    def _table_pdf(self, csv_file: Path, note: dict[str, Any], record: dict[str, Any],
                   entries: list[dict[str, Any]], run: int, problems: list[str]) -> Path | None:
        pdf = self._free_name(csv_file.stem + ".pdf")
        data_files = [(e["name"], e["sha256"]) for e in entries]
        cover = table_cover(self.manifest, record, str(note.get("title") or csv_file.stem), data_files, csv_file.name)
        try:
            report = render_pdf(pdf, csv_file, cover)
        except Exception as exc:  # noqa: BLE001 - the data files stay evidence; the manifest says what failed
            logger.exception("the PDF of %s could not be rendered", csv_file)
            pdf.unlink(missing_ok=True)
            problems.append(f"the PDF of {csv_file.name} could not be rendered: {type(exc).__name__}: {exc}")
            return None
        entries.append({**_describe(pdf, record.get("tool"), run), "report": report})
        return pdf

    def _store_run(self, record: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        """Write the run's files, then its record, to the store once; a failure is recorded, not raised."""
        if self.store is None:
            return
        try:
            for entry in entries:
                entry["stored"] = self.store.put(self.key_prefix + entry["name"], self.directory / entry["name"],
                                                 entry["sha256"])
            header = {k: self.manifest.get(k) for k in ("job", "request", "model", "collection", "identity")}
            key = f"{self.key_prefix}{RUNS}{len(self.manifest['runs']) + 1:04d}.json"
            stored = self.store.put_json(key, {"header": header, "run": record, "files": entries},
                                         self.directory / SCRATCH)
            self.manifest["store"]["run_records"].append(stored)
        except (StoreError, ClientError, BotoCoreError) as exc:
            logger.error("evidence of job %s not fully stored in S3: %s", self.manifest.get("job"), exc)
            self.manifest["store"]["problems"].append(str(exc))
            self.store_problem = str(exc)

    def finish(self, **fields: Any) -> Path:
        """The job's last word: window, renewal date, signature; in S3, the manifest and signature too."""
        self.manifest.update(fields)
        self.manifest["time_window"] = job_window(self.manifest["runs"])
        due = [r["renew_by"] for r in self.manifest["runs"] if r.get("files") and r.get("renew_by")]
        self.manifest["renew_by"] = min(due) if due else None
        if self.store is not None:
            self.manifest["store"]["closings"] = self.manifest["store"].get("closings", 0) + 1
        path = self.save()
        if self.store is not None:
            self._store_manifest(self.manifest["store"]["closings"])
        return path

    def _store_manifest(self, closings: int) -> None:
        """Write the manifest and signature as saved; a job that goes on later writes `manifest-2.json` ...."""
        assert self.store is not None
        stem = "manifest" if closings == 1 else f"manifest-{closings}"
        try:
            receipt = {"manifest": self.store.put(f"{self.key_prefix}{stem}.json", self.directory / MANIFEST,
                                                  file_digest(self.directory / MANIFEST))}
            if self.signature_path.exists():
                receipt["signature"] = self.store.put(f"{self.key_prefix}{stem}.json.sig", self.signature_path,
                                                      file_digest(self.signature_path))
        except (StoreError, ClientError, BotoCoreError) as exc:
            logger.error("the manifest of job %s was not stored in S3: %s", self.manifest.get("job"), exc)
            self.store_problem = str(exc)
            return
        receipt["files"] = [{"name": e["name"], **e["stored"]} for e in self.manifest["files"] if e.get("stored")]
        receipt["run_records"] = self.manifest["store"]["run_records"]
        (self.directory / RECEIPT).write_text(json.dumps(receipt, indent=2), encoding="utf-8")

    def save(self) -> Path:
        """Write the manifest atomically, then its signature over exactly those bytes."""
        path = self.directory / MANIFEST
        data = json.dumps(self.manifest, indent=2, sort_keys=True, default=str).encode("utf-8")
        _replace(path, data)
        if self.signer is not None:
            _replace(self.signature_path, self.signer.sign(data))
        return path

    def _free_name(self, name: str) -> Path:
        target = self.directory / name
        stem, suffix, n = target.stem, target.suffix, 2
        while target.exists() or target.name in RESERVED:
            target = self.directory / f"{stem}-{n}{suffix}"
            n += 1
        return target


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
