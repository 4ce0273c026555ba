"""Tables as JSON, CSV, XLSX and PDF: written by a real tool run, the PDF checked as an auditor sees it."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from tests.conftest import APPROVER, REQUESTER
from tests.evidence.conftest import REQUEST
from workers import reports

TABLE_TOOL = '''"""List IAM users with their MFA devices as a table (for the report tests)."""

PARAMETERS = {"type": "object", "properties": {"copies": {"type": "integer", "default": 1},
                                               "days": {"type": "integer", "default": 30}}}


def run(ctx, copies=1, days=30):
    iam = ctx.client("iam")
    users = [u for page in iam.get_paginator("list_users").paginate() for u in page["Users"]]

    def rows():
        for n in range(copies):
            for user in users:
                devices = iam.list_mfa_devices(UserName=user["UserName"])["MFADevices"] if n == 0 else []
                yield {"UserName": user["UserName"], "Arn": user["Arn"], "Created": user["CreateDate"],
                       "MFA": len(devices) > 0, "Copy": n}

    table = ctx.save_table("iam_users", rows(), formats=["json", "xlsx", "pdf"], title="IAM users and MFA")
    return {"summary": f"{table['rows']} users", "files": table["files"]}
'''


def pdf_text(path: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.fixture
def table_run(collect):
    collect.approve("iam_users_table", TABLE_TOOL)
    return collect


def test_the_pdf_cover_states_who_what_where_and_the_hashes(table_run, tmp_path):
    outcome = table_run("iam_users_table", days=30)
    assert not outcome.is_error, outcome.text
    folder = table_run.evidence.directory
    entries = {f["name"]: f for f in table_run.manifest["files"]}
    assert set(entries) == {"iam_users.csv", "iam_users.json", "iam_users.xlsx", "iam_users.pdf"}
    assert entries["iam_users.pdf"]["report"] == {"rendered_by": "auditbot worker", "from": "iam_users.csv",
                                                  "rows_shown": 3}
    assert entries["iam_users.pdf"]["sha256"] == hashlib.sha256((folder / "iam_users.pdf").read_bytes()).hexdigest()

    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(folder / "iam_users.pdf"),
                    str(tmp_path / "cover")], check=True)
    (png,) = tmp_path.glob("cover*.png")
    with Image.open(png) as image:
        assert image.width > image.height, "the PDF is landscape"
        darkest, lightest = image.convert("L").getextrema()
        assert darkest < 100 < lightest, "page 1 has text on it"
    cover = pdf_text(folder / "iam_users.pdf", 1)
    words = " ".join(cover.split())
    run = table_run.manifest["runs"][0]
    for expected in ("IAM users and MFA", REQUEST, REQUESTER, f"{APPROVER} at {run['approved_at']}",
                     "123456789012", "us-east-1", "iam_users_table v1", run["code_sha256"],
                     f"{run['started']} to {run['ended']} (UTC)", "Rows 3", "Page 1 of 2"):
        assert expected in words, expected
    window = run["window"]
    assert window["source"] == "tool arguments"
    assert f"Time window {window['start']} to {window['end']} (UTC)" in words
    for name in ("iam_users.csv", "iam_users.json", "iam_users.xlsx"):
        assert entries[name]["sha256"] in cover.replace("\n", " "), name
    table_page = " ".join(pdf_text(folder / "iam_users.pdf", 2).split())
    assert "UserName Arn Created MFA Copy" in table_page and "alice" in table_page
    assert "End of table: all 3 rows are shown." in table_page


def test_json_csv_and_xlsx_hold_the_same_rows(table_run):
    table_run("iam_users_table")
    folder = table_run.evidence.directory

    with (folder / "iam_users.csv").open(newline="") as handle:
        as_csv = list(csv.DictReader(handle))
    as_json = json.loads((folder / "iam_users.json").read_text())
    sheet = load_workbook(folder / "iam_users.xlsx", read_only=True).worksheets[0]
    as_xlsx = [list(row) for row in sheet.iter_rows(values_only=True)]

    assert [r["UserName"] for r in as_csv] == ["alice", "bob", "carol"]
    assert as_json["columns"] == ["UserName", "Arn", "Created", "MFA", "Copy"] and as_json["row_count"] == 3
    assert [r["MFA"] for r in as_json["rows"]] == [True, False, False]
    assert as_xlsx[0] == as_json["columns"] and [r[0] for r in as_xlsx[1:]] == ["alice", "bob", "carol"]
    assert as_xlsx[1][2] == as_json["rows"][0]["Created"] == as_csv[0]["Created"]


def test_a_long_table_pdf_says_it_is_a_summary_and_where_every_row_is(table_run):
    outcome = table_run("iam_users_table", copies=400)
    assert not outcome.is_error, outcome.text
    pdf = table_run.evidence.directory / "iam_users.pdf"

    cover = " ".join(pdf_text(pdf, 1).split())
    summary = "This PDF is a summary: it shows the first 1,000 of 1,200 rows. Every row is in iam_users.csv"
    assert summary in cover and "Rows 1,200" in cover
    last = pdf_pages(pdf)
    assert summary in " ".join(pdf_text(pdf, last).split())
    middle = " ".join(pdf_text(pdf, last // 2).split())
    assert "UserName Arn Created MFA Copy" in middle, "the header repeats on every page"
    assert f"Page {last // 2} of {last}" in middle


def test_fields_first_seen_after_the_sample_are_kept(tmp_path):
    rows = [{"a": n} for n in range(reports.SAMPLE_ROWS + 1)] + [{"a": "late", "b": "surprise"}]

    table = reports.save_table(tmp_path, "t", iter(rows), formats=["csv"])

    assert table["columns"] == ["a", reports.OTHER_COLUMN] and table["rows"] == reports.SAMPLE_ROWS + 2
    last = (tmp_path / "t.csv").read_text().splitlines()[-1]
    assert last == 'late,"{""b"": ""surprise""}"'


def test_given_columns_select_fields_and_bad_formats_are_refused(tmp_path):
    table = reports.save_table(tmp_path, "t", [{"a": 1, "b": 2}], formats=["json"], columns=["b"])
    assert json.loads((tmp_path / "t.json").read_text())["rows"] == [{"b": 2}]
    assert table["files"] == {"json": "t.json"}
    with pytest.raises(ValueError, match="table formats must be some of json, csv, xlsx, pdf"):
        reports.save_table(tmp_path, "u", [], formats=["docx"])


def test_xlsx_cells_never_lose_data_silently(tmp_path):
    reports.save_table(tmp_path, "t", [{"text": "x" * 40_000, "ctl": "a\x01b"}], formats=["xlsx"])

    row = list(load_workbook(tmp_path / "t.xlsx", read_only=True).worksheets[0].iter_rows(values_only=True))[1]
    assert len(row[0]) == reports.XLSX_MAX_CELL and row[0].endswith("[cut: the whole value is in the CSV and JSON "
                                                                     "files]")
    assert row[1] == "a\ufffdb"
