"""`auditbot teams package` writes a zip whose manifest validates against the Teams manifest schema."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema

from tests.teams.conftest import APP_ID

SCHEMA = Path(__file__).parent / "schema" / "MicrosoftTeams.v1.16.schema.json"


def run_package(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    child = {key: value for key, value in os.environ.items() if not key.startswith(("TEAMS_", "AUDITBOT_"))}
    return subprocess.run([sys.executable, "-m", "bot", "teams", "package", "--out", str(tmp_path / "app.zip")],
                          env={**child, **env}, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def test_package_manifest_validates_against_the_published_schema(tmp_path):
    done = run_package(tmp_path, TEAMS_APP_ID=APP_ID, AUDITBOT_PUBLIC_URL="https://auditbot.example.com")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(tmp_path / "app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        icons = {name: png_size(package.read(name)) for name in ("color.png", "outline.png")}
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(manifest)
    bot = manifest["bots"][0]
    assert manifest["id"] == bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"] and bot["supportsFiles"] is True
    assert "help" in [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert manifest["validDomains"] == ["auditbot.example.com"]
    assert icons == {"color.png": (192, 192), "outline.png": (32, 32)}


def test_schema_catches_a_broken_manifest():
    """The vendored schema has teeth: the mistakes Teams' own validation refuses fail here too."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    good = {"manifestVersion": "1.16", "version": "1.0.0", "id": APP_ID, "accentColor": "#112233",
            "developer": {"name": "x", "websiteUrl": "https://a", "privacyUrl": "https://a", "termsOfUseUrl": "https://a"},
            "name": {"short": "x"}, "description": {"short": "x", "full": "x"},
            "icons": {"color": "c.png", "outline": "o.png"}}
    assert validator.is_valid(good)
    for broken in ({**good, "id": "not-a-guid"}, {**good, "bots": [{"botId": APP_ID, "scopes": ["meeting"]}]},
                   {**good, "developer": {**good["developer"], "websiteUrl": "http://a"}},
                   {**good, "unknownField": 1}, {k: v for k, v in good.items() if k != "icons"}):
        assert not validator.is_valid(broken), broken


def test_package_needs_an_app_id_and_an_https_public_url(tmp_path):
    assert "TEAMS_APP_ID is required" in run_package(tmp_path).stderr
    done = run_package(tmp_path, TEAMS_APP_ID=APP_ID, AUDITBOT_PUBLIC_URL="http://localhost:3000")
    assert done.returncode == 2 and "must be an https URL" in done.stderr
