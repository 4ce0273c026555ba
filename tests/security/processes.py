"""Finding a tool's stray processes from the host, whatever pid namespace they ran in."""

from __future__ import annotations

import time
from pathlib import Path


def running_with(marker: str) -> list[int]:
    """Host pids of live (not zombie) processes whose command line holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def gone_within(marker: str, seconds: float) -> bool:
    """Whether every process with `marker` in its command line has ended within `seconds`."""
    deadline = time.monotonic() + seconds
    while running_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
