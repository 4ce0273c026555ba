"""Renewal dates per tool, fiscal-year aware, and `auditbot evidence list [--stale]`."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from workers.freshness import RenewalPolicy, due_date, fiscal_year, fiscal_year_end
from workers.settings import ConfigError, load_settings


@pytest.mark.parametrize(("collected", "period", "start_month", "due"), [
    (date(2025, 5, 10), "1y", 1, date(2026, 5, 10)),
    (date(2024, 2, 29), "1y", 1, date(2025, 2, 28)),
    (date(2025, 1, 31), "1m", 1, date(2025, 2, 28)),
    (date(2025, 5, 10), "90d", 1, date(2025, 8, 8)),
    (date(2025, 5, 10), "2w", 1, date(2025, 5, 24)),
    (date(2025, 5, 10), "fy", 1, date(2025, 12, 31)),
    (date(2025, 5, 10), "fy", 4, date(2026, 3, 31)),
    (date(2025, 3, 31), "fy", 4, date(2025, 3, 31)),
    (date(2025, 5, 10), "fy", 7, date(2025, 6, 30)),
])
def test_due_dates(collected, period, start_month, due):
    assert due_date(collected, period, start_month) == due


def test_fiscal_years_are_named_by_the_year_they_end_in():
    assert fiscal_year(date(2025, 3, 31), 4) == 2025 and fiscal_year(date(2025, 4, 1), 4) == 2026
    assert fiscal_year_end(2026, 4) == date(2026, 3, 31) and fiscal_year_end(2025, 1) == date(2025, 12, 31)


def test_the_period_is_set_per_tool():
    policy = RenewalPolicy(default="1y", by_tool={"aws_take_screenshot": "90d"})
    when = datetime.fromisoformat("2025-05-10T23:30:00-02:00")  # 2025-05-11 in UTC
    assert policy.renew_by("aws_take_screenshot", when) == "2025-08-09"
    assert policy.renew_by("aws_export_data", when) == "2026-05-11"


def test_a_bad_period_stops_the_configuration(monkeypatch):
    monkeypatch.setenv("AUDITBOT_EVIDENCE_RENEWAL", "yearly")
    with pytest.raises(ConfigError, match="AUDITBOT_EVIDENCE_RENEWAL: .*'yearly' is not a renewal period"):
        load_settings()


def write_manifest(root, job: str, tool: str, ended: str, request: str) -> None:
    folder = root / "FY2024" / ended[:10] / job
    folder.mkdir(parents=True)
    manifest = {"job": job, "request": {"text": request}, "files": [{"name": "x.json"}],
                "runs": [{"tool": tool, "started": ended, "ended": ended, "files": ["x.json"]},
                         {"tool": "failed_tool", "started": ended, "ended": ended, "files": []}]}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_list_shows_each_job_and_stale_shows_what_to_collect_again(settings, auditbot_cli):
    root = settings.auditbot_evidence_dir
    write_manifest(root, "job-old", "aws_export_data", "2024-01-15T10:00:00+00:00", "Export the old logs")
    write_manifest(root, "job-new", "aws_export_data", datetime.now().astimezone().isoformat(), "Export new logs")

    everything = auditbot_cli("evidence", "list")
    stale = auditbot_cli("evidence", "list", "--stale")

    assert everything.returncode == 0 and stale.returncode == 0, everything.stderr + stale.stderr
    assert "job-old" in everything.stdout and "job-new" in everything.stdout
    assert "2 job folders under" in everything.stdout
    assert "job-old" in stale.stdout and "job-new" not in stale.stdout
    assert "2025-01-15" in stale.stdout and "stale" in stale.stdout and "1 stale job folder under" in stale.stdout
