"""The time window a run's evidence covers, in UTC, read from what was asked for.

First the tool's arguments (what the request became: `days=7`, `start_time=...`), then the AWS calls'
parameters (what AWS was actually asked: FilterLogEvents `startTime`, LookupEvents `StartTime`). A run
with neither collected the state at one point in time, and its window says so. Epoch numbers are read as
milliseconds when they are too large to be seconds (CloudWatch Logs uses milliseconds).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

START_KEYS = frozenset({"starttime", "start", "since", "from", "startdate", "starttimestamp", "after"})
END_KEYS = frozenset({"endtime", "end", "until", "to", "enddate", "endtimestamp", "before"})
SPAN_KEYS = {"days": "days", "hours": "hours", "minutes": "minutes", "weeks": "weeks", "lookbackdays": "days",
             "lookbackhours": "hours"}
_EPOCH_MS_FLOOR = 100_000_000_000  # later than 1973 in milliseconds, later than 5138 in seconds


def _norm(key: str) -> str:
    return re.sub(r"[^a-z]", "", key.lower())


def as_utc(value: Any) -> datetime | None:
    """A datetime from an ISO 8601 string, epoch seconds or milliseconds, or a datetime; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and value > 0:
        seconds = value / 1000 if value >= _EPOCH_MS_FLOOR else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _window(params: dict[str, Any], at: datetime) -> tuple[datetime, datetime] | None:
    start = end = None
    span: timedelta | None = None
    for key, value in params.items():
        name = _norm(str(key))
        if name in START_KEYS:
            start = as_utc(value) or start
        elif name in END_KEYS:
            end = as_utc(value) or end
        elif name in SPAN_KEYS and isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            span = timedelta(**{SPAN_KEYS[name]: value})
    if start is None and span is not None:
        start = (end or at) - span
    if start is None:
        return None
    return start, end or at


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def run_window(params: dict[str, Any], calls: list[dict[str, Any]], started: datetime) -> dict[str, Any]:
    """The window of one run, and where it was read from."""
    found = _window(params, started)
    source = "tool arguments"
    if found is None:
        for call in calls:
            found = _window(call.get("params") or {}, started)
            if found:
                source = f"{call.get('service')}:{call.get('operation')} parameters"
                break
    if found is None:
        return {"kind": "point in time", "at": iso(started), "source": "no time range was asked for"}
    return {"kind": "range", "start": iso(found[0]), "end": iso(found[1]), "source": source}


def job_window(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """From the earliest start to the latest end of the runs' ranges; None when no run asked for a range."""
    ranges = [r["window"] for r in runs if (r.get("window") or {}).get("kind") == "range"]
    if not ranges:
        return None
    return {"kind": "range", "start": min(w["start"] for w in ranges), "end": max(w["end"] for w in ranges)}


def describe(window: dict[str, Any] | None) -> str:
    """The window in words for a cover page."""
    if not window:
        return "not given (the state at collection time)"
    if window.get("kind") == "range":
        return f"{window['start']} to {window['end']} (UTC)"
    return f"the state at {window.get('at')} (UTC)"
