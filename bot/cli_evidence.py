"""`auditbot evidence verify PATH`, `auditbot evidence list [--stale]` and `auditbot evidence key`.

`verify` exits 1 naming every file that does not match (and 2 when there is nothing it can check
against); `list` shows each job's evidence with the date it must be collected again.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from workers import freshness
from workers.evidence_config import renewal_policy
from workers.evidence_verify import job_folders, verify_folder
from workers.settings import Settings
from workers.signing import Signer, SigningKeyError, fingerprint, load_public_key, public_key_path, public_pem


def add_parser(sub: argparse._SubParsersAction) -> None:
    evidence = sub.add_parser("evidence", help="check and list collected evidence")
    esub = evidence.add_subparsers(dest="evidence_command", required=True)
    verify = esub.add_parser("verify", help="re-hash every file and check the manifest's signature")
    verify.add_argument("path", type=Path, help="a job folder, its manifest.json, an FY folder or the evidence root")
    verify.add_argument("--public-key", type=Path,
                        help="the trusted public key (PEM); default: this installation's signing key")
    listing = esub.add_parser("list", help="each job's evidence and when it must be collected again")
    listing.add_argument("--stale", action="store_true", help="only evidence past its renewal date")
    esub.add_parser("key", help="print the public key that signs manifests (made on first use)")
    evidence.set_defaults(func=cmd_evidence)


def cmd_evidence(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.evidence_command == "verify":
            return verify(settings, args.path, args.public_key)
        if args.evidence_command == "list":
            return list_evidence(settings, args.stale, Console())
        return show_key(settings)
    except SigningKeyError as exc:
        print(f"auditbot: {exc}", file=sys.stderr)
        return 2


def show_key(settings: Settings) -> int:
    """The public key for auditors: its fingerprint and file, then the PEM."""
    signer = Signer.load_or_create(settings.evidence_key_path)
    print(f"{fingerprint(signer.public)}  {public_key_path(signer.path)}")
    print(public_pem(signer.public), end="")
    return 0


def verify(settings: Settings, path: Path, public_key: Path | None) -> int:
    """Plain lines, one per folder or problem, so a script (or grep) can read them."""
    key_path = public_key or settings.evidence_key_path
    if public_key is None and not key_path.exists():
        print(f"auditbot: no trusted public key: pass --public-key FILE (this installation has no signing key at "
              f"{key_path})", file=sys.stderr)
        return 2
    trusted = load_public_key(key_path)
    folders = job_folders(path)
    if not folders:
        print(f"auditbot: no manifest.json at or under {path}", file=sys.stderr)
        return 2
    failed = 0
    for folder in folders:
        report = verify_folder(folder, trusted)
        if report.ok:
            matched = "1 file matches" if report.files == 1 else f"{report.files} files match"
            print(f"OK {folder}: signature valid, {matched}")
            continue
        failed += 1
        for problem in report.problems:
            print(f"FAIL {problem}")
    print(f"{len(folders) - failed} of {len(folders)} job folders verified against key {fingerprint(trusted)}")
    return 1 if failed else 0


def list_evidence(settings: Settings, only_stale: bool, console: Console) -> int:
    today = datetime.now(UTC).date()
    policy = renewal_policy(settings)
    entries = [e for e in freshness.scan(settings.auditbot_evidence_dir, policy)
               if not only_stale or e.status(today) == "stale"]
    table = Table("renew by", "status", "FY", "collected", "job", "tools", "files", "request")
    for e in entries:
        table.add_row(e.renew_by.isoformat(), e.status(today), str(e.fiscal_year), e.collected.isoformat(), e.job,
                      ", ".join(e.tools), str(e.files), e.request[:60])
    console.print(table)
    noun = "job folder" if len(entries) == 1 else "job folders"
    console.print(f"{len(entries)} {'stale ' if only_stale else ''}{noun} under {settings.auditbot_evidence_dir}",
                  highlight=False, soft_wrap=True)
    return 0
