"""When evidence must be collected again, and which evidence is past that date.

A renewal period is set per tool (`AUDITBOT_EVIDENCE_RENEWAL_BY_TOOL`, e.g. `aws_take_screenshot=90d`),
else by `AUDITBOT_EVIDENCE_RENEWAL` (default `1y`). A period is `<n>d`, `<n>w`, `<n>m`, `<n>y`, or
`fy`: once per fiscal year, due on the last day of the fiscal year the evidence was collected in
(`AUDITBOT_FISCAL_YEAR_START_MONTH` says when fiscal years start). A run's evidence is due at its
collection end plus its tool's period; a job's evidence is due when its earliest run is.

Dates are computed with the policy in force when they are read, so a stricter policy applies to
evidence already collected; the manifest also records the date computed when it was collected.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

PERIOD = re.compile(r"(?:(\d{1,4})([dwmy])|fy)", re.IGNORECASE)
DUE_SOON_DAYS = 30


def check_period(text: str) -> str:
    """The period, normalised; a ValueError naming the accepted forms otherwise."""
    value = text.strip().lower()
    if not PERIOD.fullmatch(value) or value in ("0d", "0w", "0m", "0y"):
        raise ValueError(f"{text!r} is not a renewal period: use <n>d, <n>w, <n>m, <n>y (e.g. 90d, 1y) or fy")
    return value


def fiscal_year(when: date, start_month: int = 1) -> int:
    """The fiscal year is named by the calendar year in which it ends."""
    return when.year + (1 if start_month > 1 and when.month >= start_month else 0)


def fiscal_year_end(year: int, start_month: int = 1) -> date:
    """The last day of fiscal year `year`."""
    if start_month == 1:
        return date(year, 12, 31)
    month = start_month - 1
    return date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(collected: date, period: str, start_month: int = 1) -> date:
    period = check_period(period)
    if period == "fy":
        return fiscal_year_end(fiscal_year(collected, start_month), start_month)
    number, unit = int(period[:-1]), period[-1]
    if unit == "d":
        return collected + timedelta(days=number)
    if unit == "w":
        return collected + timedelta(weeks=number)
    return add_months(collected, number * (12 if unit == "y" else 1))


@dataclass(frozen=True)
class RenewalPolicy:
    default: str = "1y"
    by_tool: dict[str, str] = field(default_factory=dict)
    start_month: int = 1

    def period(self, tool: str) -> str:
        return self.by_tool.get(tool, self.default)

    def renew_by(self, tool: str, collected: datetime) -> str:
        return due_date(collected.astimezone(UTC).date(), self.period(tool), self.start_month).isoformat()


@dataclass(frozen=True)
class Entry:
    """One job's evidence as `auditbot evidence list` shows it."""

    folder: Path
    job: str
    collected: date
    fiscal_year: int
    tools: list[str]
    files: int
    renew_by: date
    request: str

    def status(self, today: date) -> str:
        if self.renew_by <= today:
            return "stale"
        return "due soon" if self.renew_by <= today + timedelta(days=DUE_SOON_DAYS) else "current"


def _collected(run: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(run.get("ended") or run.get("started")))
    except ValueError:
        return None


def entry(folder: Path, manifest: dict[str, Any], policy: RenewalPolicy) -> Entry | None:
    """The job's entry, or None when it kept no evidence (no run that left files)."""
    runs = [(run, when) for run in manifest.get("runs", []) if run.get("files") and (when := _collected(run))]
    if not runs:
        return None
    due = min(date.fromisoformat(policy.renew_by(run["tool"], when)) for run, when in runs)
    collected = max(when for _, when in runs).astimezone(UTC).date()
    return Entry(folder=folder, job=str(manifest.get("job", folder.name)), collected=collected,
                 fiscal_year=fiscal_year(collected, policy.start_month),
                 tools=sorted({str(run["tool"]) for run, _ in runs}), files=len(manifest.get("files", [])),
                 renew_by=due, request=str((manifest.get("request") or {}).get("text", "")))


def scan(root: Path, policy: RenewalPolicy) -> Iterator[Entry]:
    """Every job folder under the evidence root (`FY*/<date>/<job>/manifest.json`), oldest first."""
    for path in sorted(root.glob("FY*/*/*/manifest.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found = entry(path.parent, manifest, policy)
        if found is not None:
            yield found


def stale(root: Path, policy: RenewalPolicy, today: date | None = None) -> list[Entry]:
    """What must be collected again now: for `auditbot evidence list --stale` and the App Home."""
    today = today or datetime.now(UTC).date()
    return [e for e in scan(root, policy) if e.status(today) == "stale"]
