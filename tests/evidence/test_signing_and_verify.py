"""The signed manifest: a round trip through `auditbot evidence verify`, OpenSSL, and tampering of every kind."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess

import pytest

from tests.evidence.conftest import open_evidence
from workers.evidence_verify import verify_folder
from workers.signing import Signer, load_public_key, public_key_path


@pytest.fixture
def folder(settings, tmp_path):
    """A finished job folder with two files, signed with the installation's key."""
    evidence = open_evidence(settings)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "users.csv").write_text("name\nalice\nbob\n")
    (scratch / "policy.json").write_text('{"MinimumPasswordLength": 14}')
    record = {"tool": "t", "version": 1, "started": "2025-05-01T10:00:00+00:00", "ended": "2025-05-01T10:00:05+00:00",
              "params": {}, "api_calls": []}
    evidence.add_run(record, sorted(scratch.iterdir()))
    evidence.finish()
    return evidence.directory


def test_the_key_is_made_once_private_and_its_public_half_published(settings):
    first = Signer.load_or_create(settings.evidence_key_path)
    again = Signer.load_or_create(settings.evidence_key_path)

    assert stat.S_IMODE(os.stat(settings.evidence_key_path).st_mode) == 0o600
    assert first.describe() == again.describe()
    published = load_public_key(public_key_path(settings.evidence_key_path))
    assert Signer.load_or_create(settings.evidence_key_path).describe()["public_key"] == \
        first.describe()["public_key"] and published.public_bytes_raw() == first.public.public_bytes_raw()


def test_signature_round_trip_with_auditbot_and_openssl(folder, settings, auditbot_cli):
    result = auditbot_cli("evidence", "verify", str(folder))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature valid, 2 files match" in result.stdout and "1 of 1 job folders verified" in result.stdout
    openssl = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public_key_path(settings.evidence_key_path)),
         "-rawin", "-in", str(folder / "manifest.json"), "-sigfile", str(folder / "manifest.json.sig")],
        capture_output=True, text=True, check=False)
    assert openssl.returncode == 0 and "Signature Verified Successfully" in openssl.stdout
    shown = auditbot_cli("evidence", "key").stdout
    key = Signer.load_or_create(settings.evidence_key_path)
    assert shown.startswith(key.describe()["fingerprint"]) and public_key_path(key.path).read_text() in shown


def test_a_tampered_file_fails_naming_it(folder, auditbot_cli):
    (folder / "users.csv").write_text("name\nalice\neve\n")  # same size, other bytes

    result = auditbot_cli("evidence", "verify", str(folder / "manifest.json"))

    assert result.returncode == 1
    assert f"{folder / 'users.csv'}: sha256 differs from the manifest" in result.stdout
    assert "policy.json" not in result.stdout and "0 of 1 job folders verified" in result.stdout


def test_a_manifest_edited_to_match_fails_on_its_signature(folder, settings):
    (folder / "users.csv").write_text("name\nalice\nmallory\n")
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = next(f for f in manifest["files"] if f["name"] == "users.csv")
    entry["size"] = (folder / "users.csv").stat().st_size
    entry["sha256"] = hashlib.sha256((folder / "users.csv").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))

    report = verify_folder(folder, Signer.load_or_create(settings.evidence_key_path).public)

    assert not report.ok and len(report.problems) == 1
    assert report.problems[0].startswith(f"{folder / 'manifest.json'}: the signature does not match")


def test_missing_extra_and_resized_files_are_each_named(folder, settings):
    (folder / "policy.json").unlink()
    (folder / "users.csv").write_text("name\n")
    (folder / "planted.png").write_bytes(b"\x89PNG")

    problems = verify_folder(folder, Signer.load_or_create(settings.evidence_key_path).public).problems

    assert problems == [f"{folder / 'policy.json'}: listed in the manifest but missing",
                        f"{folder / 'users.csv'}: size 5 differs from the recorded 15",
                        f"{folder / 'planted.png'}: not listed in the manifest"]


def test_another_key_is_not_trusted(folder, tmp_path, auditbot_cli):
    stranger = Signer.load_or_create(tmp_path / "stranger.pem")

    result = auditbot_cli("evidence", "verify", str(folder), "--public-key", str(public_key_path(stranger.path)))

    assert result.returncode == 1
    assert f"not the trusted key {stranger.describe()['fingerprint']}" in result.stdout


def test_verify_without_a_trusted_key_refuses(folder, settings, auditbot_cli):
    settings.evidence_key_path.unlink()

    result = auditbot_cli("evidence", "verify", str(folder))

    assert result.returncode == 2 and "no trusted public key: pass --public-key FILE" in result.stderr
