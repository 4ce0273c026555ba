"""`auditbot teams package`: the Teams app package (a zip of `manifest.json` and two icons) for sideloading.

The manifest follows schema v1.16: the bot (`TEAMS_APP_ID`) in personal chats, teams and group
chats, with a few suggested commands and `supportsFiles`. Teams wants https URLs for the developer
pages, so `AUDITBOT_PUBLIC_URL` must be https; its host is also the one valid domain (evidence links).
The icons are drawn here: a white check mark on the accent colour (192 px) and as an outline (32 px).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workers.settings import ConfigError, Settings, require

SCHEMA_URL = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
ACCENT = (0x1F, 0x6F, 0xEB)
SCOPES = ["personal", "team", "groupChat"]
COMMANDS = [
    ("help", "What I can do and how to ask"),
    ("Export CloudWatch logs", "Export a log group's events over the last N days"),
    ("List IAM users without MFA", "Evidence of users without multi-factor authentication"),
    ("Screenshot an RDS instance", "A console screenshot of a resource's configuration"),
]
CHECK = ((0.24, 0.53), (0.42, 0.71), (0.77, 0.33))

Pixel = Callable[[float, float], tuple[int, int, int, int]]


def png(size: int, pixel: Pixel) -> bytes:
    """An RGBA PNG; `pixel` gets coordinates in 0..1."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel((x + 0.5) / size, (y + 0.5) / size)) for x in range(size))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def _on_check(x: float, y: float, width: float) -> bool:
    for (ax, ay), (bx, by) in zip(CHECK, CHECK[1:], strict=False):
        dx, dy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
        if (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= width * width:
            return True
    return False


def color_icon() -> bytes:
    return png(192, lambda x, y: (255, 255, 255, 255) if _on_check(x, y, 0.06) else (*ACCENT, 255))


def outline_icon() -> bytes:
    return png(32, lambda x, y: (255, 255, 255, 255) if _on_check(x, y, 0.08) else (0, 0, 0, 0))


def manifest(settings: Settings) -> dict[str, Any]:
    require(settings, "TEAMS_APP_ID")
    public = urlsplit(settings.public_url)
    if public.scheme != "https":
        raise ConfigError("auditbot: AUDITBOT_PUBLIC_URL must be an https URL for the Teams package")
    app_id = settings.teams_app_id
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": "1.16",
        "version": version("auditbot"),
        "id": app_id,
        "developer": {"name": "auditbot", "websiteUrl": settings.public_url, "privacyUrl": settings.public_url,
                      "termsOfUseUrl": settings.public_url},
        "name": {"short": "auditbot", "full": "auditbot: AWS audit evidence"},
        "description": {
            "short": "Collects AWS audit evidence, with approved tools and a signed-off trail.",
            "full": ("Ask for AWS audit evidence in plain words: log exports, IAM reports, console screenshots. "
                     "auditbot runs approved tools against your AWS account and links every file with its "
                     "SHA-256 and a manifest. When no tool fits it writes one, which an approver reviews with "
                     "Approve/Reject before it runs."),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [{
            "botId": app_id,
            "scopes": SCOPES,
            "supportsFiles": True,
            "isNotificationOnly": False,
            "commandLists": [{"scopes": SCOPES, "commands": [{"title": title, "description": description}
                                                            for title, description in COMMANDS]}],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [public.netloc],
    }


def build_package(settings: Settings) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest(settings), indent=2))
        package.writestr("color.png", color_icon())
        package.writestr("outline.png", outline_icon())
    return buffer.getvalue()


def write_package(settings: Settings, out: Path) -> Path:
    out.write_bytes(build_package(settings))
    return out
