"""What a run's files become on their way into the evidence folder, beyond being hashed.

- A PNG keeps the banner its tool noted only when the pixels show it; any other PNG gets the banner
  burned in by the worker, naming the tool, so every image in the folder says what it is.
- A table whose tool asked for a PDF gets it here, rendered from its CSV with a cover page of facts
  from the manifest (request, approver, account, window, tool version, file hashes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workers import evidence_window
from workers.evidence_screenshots import banner_text, has_banner, stamp_unrecorded, utc
from workers.report_pdf import Cover, render_table_pdf


def screenshot_record(path: Path, note: dict[str, Any] | None, record: dict[str, Any],
                      identity: dict[str, Any]) -> dict[str, Any]:
    """The manifest's record of a PNG's banner, burning one in when the tool's is not there."""
    if note and note.get("kind") == "screenshot" and has_banner(path.read_bytes()):
        return {"banner": note.get("banner"), "source": note.get("source"), "captured_at": note.get("captured_at"),
                "banner_by": f"tool ({note.get('checked', 'unchecked')}), pixels checked by the worker"}
    now = datetime.now(UTC)
    source = f"{path.name} from {record.get('tool')} v{record.get('version')}; the tool recorded no banner"
    text = banner_text(str(identity.get("account", "unknown")), str(identity.get("region", "unknown")), now, source)
    stamp_unrecorded(path, text)
    return {"banner": text, "source": source, "captured_at": utc(now), "banner_by": "worker"}


def table_cover(manifest: dict[str, Any], record: dict[str, Any], title: str,
                data_files: list[tuple[str, str]], csv_name: str) -> Cover:
    """The cover of a table's PDF: who asked, who approved, what account and window, which code."""
    request = manifest.get("request") or {}
    identity = manifest.get("identity") or {}
    requester = str(request.get("user", "unknown"))
    if request.get("surface"):
        requester += f" ({request['surface']}, channel {request.get('channel', '?')})"
    approved = str(record.get("approver") or "unknown")
    if record.get("approved_at"):
        approved += f" at {record['approved_at']}"
    facts = [
        ("Request", str(request.get("text", ""))),
        ("Requested by", f"{requester} at {request.get('time', '?')}"),
        ("Approved by", approved),
        ("AWS account", f"{identity.get('account', '?')} (partition {identity.get('partition', '?')})"),
        ("Caller", str(identity.get("caller_arn", "?"))),
        ("Region", str(identity.get("region", "?"))),
        ("Time window", evidence_window.describe(record.get("window"))),
        ("Collected", f"{record.get('started')} to {record.get('ended')} (UTC)"),
        ("Tool", f"{record.get('tool')} v{record.get('version')}"),
        ("Tool code sha256", str(record.get("code_sha256", "?"))),
        ("Job", str(manifest.get("job", "?"))),
    ]
    footer = f"auditbot evidence | job {manifest.get('job')} | {record.get('tool')} v{record.get('version')} | " \
             f"full data: {csv_name}"
    return Cover(title=title, facts=facts, data_files=data_files, footer=footer)


def render_pdf(pdf: Path, csv_file: Path, cover: Cover) -> dict[str, Any]:
    """Render the table's PDF; return what the manifest says about it."""
    shown = render_table_pdf(pdf, csv_file, cover)
    return {"rendered_by": "auditbot worker", "from": csv_file.name, "rows_shown": shown}
