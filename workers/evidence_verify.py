"""Checking a job folder as an auditor would: the signature, then every file against the manifest.

A folder passes when `manifest.json.sig` is a valid signature of `manifest.json` by the trusted public
key, every file the manifest lists is there with its recorded size and sha256, and nothing else is
there besides the manifest, its signature and the S3 receipt. Each problem names the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from workers.evidence import MANIFEST, SIGNATURE, UNLISTED, file_digest
from workers.signing import fingerprint, verify


@dataclass
class FolderReport:
    """What `verify_folder` found in one job folder."""

    folder: Path
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def job_folders(path: Path) -> list[Path]:
    """The job folders at or under `path` (a job folder, its manifest, an FY folder or the evidence root)."""
    if path.is_file():
        return [path.parent]
    if (path / MANIFEST).exists():
        return [path]
    return sorted(p.parent for p in path.rglob(MANIFEST))


def verify_folder(folder: Path, trusted: Ed25519PublicKey) -> FolderReport:
    report = FolderReport(folder)
    manifest_path = folder / MANIFEST
    try:
        data = manifest_path.read_bytes()
        manifest = json.loads(data)
    except (OSError, ValueError) as exc:
        report.problems.append(f"{manifest_path}: cannot be read as a manifest ({exc})")
        return report
    signature_path = folder / SIGNATURE
    if not signature_path.exists():
        report.problems.append(f"{signature_path}: missing, so {manifest_path} is not signed")
    elif not verify(trusted, data, signature_path.read_bytes()):
        signer = (manifest.get("signing") or {}).get("fingerprint", "an unknown key")
        report.problems.append(f"{manifest_path}: the signature does not match (the manifest changed, or it was "
                               f"signed by {signer}, not the trusted key {fingerprint(trusted)})")
    listed = set()
    for entry in manifest.get("files", []):
        name = str(entry.get("name", ""))
        listed.add(name)
        path = folder / name
        if Path(name).name != name or not path.is_file():
            report.problems.append(f"{path}: listed in the manifest but missing")
            continue
        report.files += 1
        if path.stat().st_size != entry.get("size"):
            report.problems.append(f"{path}: size {path.stat().st_size} differs from the recorded {entry.get('size')}")
        elif file_digest(path) != entry.get("sha256"):
            report.problems.append(f"{path}: sha256 differs from the manifest (the file was changed)")
    for path in sorted(folder.iterdir()):
        if path.name not in listed and path.name not in UNLISTED:
            report.problems.append(f"{path}: not listed in the manifest")
    return report
