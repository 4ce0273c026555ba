"""The evidence folders as the App Home and `/audit evidence` show them: newest first, and what is stale.

Reads `<AUDITBOT_EVIDENCE_DIR>/FY*/<date>/<job>/manifest.json` where `auditbot web` runs (mount the same
folder there when workers run elsewhere). Each manifest is parsed once and again only when its mtime
changes, so opening the Home tab costs a directory walk and a `stat` per job, not a read of every manifest.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime
from pathlib import Path

from workers.freshness import Entry, RenewalPolicy, entry


class EvidenceIndex:
    """A cache of `freshness.Entry` per job folder, keyed by the manifest's path and mtime."""

    def __init__(self, root: Path, policy: RenewalPolicy) -> None:
        self.root = root
        self.policy = policy
        self._cache: dict[Path, tuple[float, Entry | None]] = {}
        self._lock = threading.Lock()

    def entries(self) -> list[Entry]:
        """Every job that kept evidence, newest collection first."""
        with self._lock:
            seen: dict[Path, tuple[float, Entry | None]] = {}
            for path in self.root.glob("FY*/*/*/manifest.json"):
                try:
                    mtime = path.stat().st_mtime
                except OSError:
                    continue
                cached = self._cache.get(path)
                seen[path] = cached if cached and cached[0] == mtime else (mtime, self._read(path))
            self._cache = seen
        found = [e for _, e in seen.values() if e is not None]
        return sorted(found, key=lambda e: (e.collected, e.folder.name), reverse=True)

    def recent(self, count: int) -> list[Entry]:
        return self.entries()[:count]

    def stale(self, today: date | None = None) -> list[Entry]:
        """Evidence past its renewal date, most overdue first."""
        today = today or datetime.now(UTC).date()
        return sorted((e for e in self.entries() if e.status(today) == "stale"), key=lambda e: e.renew_by)

    def _read(self, path: Path) -> Entry | None:
        try:
            return entry(path.parent, json.loads(path.read_text(encoding="utf-8")), self.policy)
        except (OSError, ValueError):
            return None
