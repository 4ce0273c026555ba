"""What a tool's `ctx` tells the worker about the files it wrote: one JSON line per file, beside them.

The tool's process and the worker share only the output folder, so `ctx` appends its facts (a
screenshot's banner and source, a table's row count and wanted PDF) to `NOTES_FILE` there. The name
starts with a dot, which `ctx.output_path` refuses, so no tool writes it by accident; the worker takes
it out of the run's files before they become evidence and checks what it claims (banners by their
pixels, tables by their files).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOTES_FILE = ".auditbot-notes.jsonl"
MAX_NOTES_BYTES = 1024 * 1024
KINDS = frozenset({"screenshot", "table"})


def append_note(output_dir: Path, kind: str, file: str, **facts: Any) -> None:
    """Record facts about `file` (a plain name in `output_dir`) for the worker."""
    if kind not in KINDS:
        raise ValueError(f"unknown note kind {kind!r}")
    with (output_dir / NOTES_FILE).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"kind": kind, "file": file, **facts}, default=str) + "\n")


def take_notes(files: list[Path]) -> tuple[dict[str, dict[str, Any]], list[Path]]:
    """Split a run's files into the notes (by file name; the last note of a file wins) and the evidence."""
    notes: dict[str, dict[str, Any]] = {}
    evidence = []
    for path in files:
        if path.name != NOTES_FILE:
            evidence.append(path)
            continue
        if path.stat().st_size > MAX_NOTES_BYTES:
            continue
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                note = json.loads(line)
            except ValueError:
                continue
            if isinstance(note, dict) and note.get("kind") in KINDS and isinstance(note.get("file"), str):
                notes[note["file"]] = note
    return notes, evidence
