"""Static checks: ordinary evidence code passes, and each blocked pattern is reported at its line."""

import hashlib
import importlib
import json
import re
import textwrap
import types

import pytest

from tests.workers.test_tool_contract import CONTRACT_EXAMPLE
from workers import static_checks
from workers.static_checks import ALLOWED_MODULES, CheckReport, Finding, check_source
from workers.tool_contract import spec_from_source

DIFF_REPORT_TOOL = '''\
"""Compare the IAM password policy with a baseline and keep the differences as CSV, JSON and PDF."""

import csv
import io
import json
from datetime import datetime, timezone

from deepdiff import DeepDiff
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

PARAMETERS = {
    "type": "object",
    "properties": {
        "baseline": {"type": "object", "description": "the expected password policy"},
        "title": {"type": "string", "default": "Password policy review"},
    },
    "required": ["baseline"],
}


def run(ctx, baseline, title="Password policy review"):
    current = ctx.client("iam").get_account_password_policy()["PasswordPolicy"]
    diff = DeepDiff(baseline, current, ignore_order=True)
    rows = [
        (path, str(change["old_value"]), str(change["new_value"]))
        for path, change in diff.get("values_changed", {}).items()
    ]
    taken = datetime.now(timezone.utc).isoformat(timespec="seconds")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["setting", "baseline", "current"])
    writer.writerows(rows)
    ctx.save_text("password_policy_diff.csv", buffer.getvalue())
    ctx.save_json("password_policy_diff.json", {"taken_at": taken, "diff": json.loads(diff.to_json())})
    _write_pdf(ctx.output_path("password_policy_diff.pdf"), title, taken, rows)
    return {"summary": f"{len(rows)} settings differ from the baseline", "differences": len(rows)}


def _write_pdf(path, title, taken, rows):
    styles = getSampleStyleSheet()
    table = Table([["Setting", "Baseline", "Current"], *rows])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
    document = SimpleDocTemplate(str(path), pagesize=A4, title=title)
    taken_line = Paragraph(f"Taken {taken} (UTC)", styles["Normal"])
    document.build([Paragraph(title, styles["Title"]), taken_line, table])


def selftest(ctx):
    ctx.client("iam").update_account_password_policy(MinimumPasswordLength=14)
    result = run(ctx, baseline={"MinimumPasswordLength": 12})
    assert result["differences"] == 1
'''

LOG_RETENTION_TOOL = '''\
"""List CloudWatch Logs log groups and flag those that keep logs for too short a time."""

from botocore.exceptions import ClientError

PARAMETERS = {
    "type": "object",
    "properties": {
        "min_retention_days": {"type": "integer", "default": 365, "minimum": 1},
        "prefix": {"type": "string", "description": "only log groups whose name starts with this"},
    },
}


def run(ctx, min_retention_days=365, prefix=None):
    logs = ctx.client("logs")
    arguments = {"logGroupNamePrefix": prefix} if prefix else {}
    groups = []
    try:
        for page in logs.get_paginator("describe_log_groups").paginate(**arguments):
            groups.extend(page["logGroups"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "AccessDeniedException":
            raise
        return {"summary": f"Not allowed to list log groups: {error.response['Error']['Message']}"}
    # a group without retentionInDays never expires its events
    short = [g["logGroupName"] for g in groups if g.get("retentionInDays", min_retention_days + 1)
             < min_retention_days]
    ctx.progress(f"{len(groups)} log groups, {len(short)} keep events under {min_retention_days} days")
    ctx.save_json(
        "log_group_retention.json",
        {"account": ctx.account_id, "region": ctx.region, "log_groups": groups, "below_minimum": short},
    )
    return {"summary": f"{len(short)} of {len(groups)} log groups", "below_minimum": len(short)}


def selftest(ctx):
    logs = ctx.client("logs")
    logs.create_log_group(logGroupName="/audit/short")
    logs.put_retention_policy(logGroupName="/audit/short", retentionInDays=30)
    logs.create_log_group(logGroupName="/audit/forever")
    assert run(ctx, prefix="/audit/")["below_minimum"] == 1
'''

SCREENSHOT_TOOL = '''\
"""Take a screenshot of a console page once an element is visible."""

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

PARAMETERS = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "wait_for_css": {"type": "string", "default": "body"},
    },
    "required": ["url"],
}


class Page:
    def __init__(self, driver):
        self._driver = driver

    def shoot(self, path):
        return self._driver.save_screenshot(str(path))


def run(ctx, url, wait_for_css="body"):
    with ctx.browser() as driver:
        driver.get(url)
        try:
            WebDriverWait(driver, 20).until(EC.visibility_of_element_located((By.CSS_SELECTOR, wait_for_css)))
        except TimeoutException:
            ctx.progress(f"{wait_for_css} did not appear; taking the screenshot anyway")
        Page(driver).shoot(ctx.output_path("console.png"))
    return {"summary": f"Screenshot of {url}", "module": __name__}
'''

TEMPLATE = '''\
"""Check a thing."""
{top}
PARAMETERS = {{"type": "object", "properties": {{}}}}


def run(ctx):
{body}
    return {{"summary": "done"}}
'''


def tool(body: str = "pass", top: str = "") -> str:
    """A valid tool whose run holds `body` (and whose top holds `top`)."""
    return TEMPLATE.format(top=top, body=textwrap.indent(body, "    "))


def marked(source: str) -> int:
    """The line marked `# <-`, where a test expects its finding."""
    return next(n for n, line in enumerate(source.split("\n"), 1) if "# <-" in line)


def blocking(report: CheckReport) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in report.findings if f.blocking]


@pytest.mark.parametrize(
    ("name", "source"),
    [("cloudwatch_logs", CONTRACT_EXAMPLE), ("password_policy_diff", DIFF_REPORT_TOOL),
     ("log_group_retention", LOG_RETENTION_TOOL), ("console_screenshot", SCREENSHOT_TOOL)],
)
def test_ordinary_evidence_code_passes(name, source):
    report = check_source(name, source)

    assert report.findings == []
    assert not report.blocking
    assert report.render() == "all checks passed"
    assert report.sha256 == spec_from_source(name, source).source_sha256


def test_the_report_identifies_the_checked_text():
    report = check_source("cloudwatch_logs", CONTRACT_EXAMPLE)
    assert report.tool == "cloudwatch_logs"
    assert report.sha256 == hashlib.sha256(CONTRACT_EXAMPLE.encode()).hexdigest()
    assert check_source("cloudwatch_logs", CONTRACT_EXAMPLE.encode()).sha256 == report.sha256


# --- encoding --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "line"),
    [("# coding: utf-7\n", 1), ("#!/usr/bin/env python\n# -*- coding: latin-1 -*-\n", 2),
     ("# vim: set fileencoding=cp1252 :\n", 1), ("# coding: no-such-codec\n", 1)],
)
def test_a_coding_cookie_other_than_utf8_blocks(header, line):
    report = check_source("check_thing", header + tool())
    assert ("ENC001", line) in blocking(report)


@pytest.mark.parametrize("header", ["# coding: utf-8\n", "# -*- coding: utf8 -*-\n"])
def test_a_utf8_cookie_is_fine(header):
    assert blocking(check_source("check_thing", header + tool())) == []


def test_bytes_that_are_not_utf8_block_and_stop_the_check():
    source = tool().encode().replace(b'"Check a thing."', b'"Check a thing."\n# caf\xe9')
    report = check_source("check_thing", source)
    assert [(f.code, f.line, f.blocking) for f in report.findings] == [("ENC002", 2, True)]
    assert report.sha256 == hashlib.sha256(source).hexdigest()


def test_a_lone_surrogate_is_not_utf8():
    report = check_source("check_thing", tool('x = "\udcff"  # <-'))
    assert blocking(report) == [("ENC002", 7)]


def test_a_utf8_byte_order_mark_is_accepted():
    assert check_source("check_thing", b"\xef\xbb\xbf" + tool().encode()).findings == []


# --- compile and contract ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", ["x = (  # <-", "break  # <-", "def f():\n    nonlocal q  # <-"]
)
def test_code_that_does_not_compile_still_gets_a_report(body):
    source = tool(body + "\nopen('x')")
    report = check_source("check_thing", source)
    assert [f.code for f in report.findings] == ["SYN001"]
    assert report.findings[0].line == marked(source)
    assert report.blocking


def test_compile_failure_still_scans_the_text():
    report = check_source("check_thing", tool("x = (\n# \u202e"))
    assert {f.code for f in report.findings} == {"SYN001", "UNI001"}


def test_a_contract_breach_blocks_with_its_line():
    source = tool().replace("def run(ctx):", "def run(ctx, extra):  # <-")
    report = check_source("check_thing", source)
    assert blocking(report) == [("CON001", marked(source))]
    assert "'extra' is not a property" in report.findings[0].message


# --- ruff ------------------------------------------------------------------------------------------------


def test_unused_import_is_only_a_warning():
    source = tool(top="import json  # <-\n")
    report = check_source("check_thing", source)
    assert [(f.code, f.line, f.blocking) for f in report.findings] == [("F401", marked(source), False)]
    assert report.render().endswith("(warning)")
    assert not report.blocking


@pytest.mark.parametrize(
    ("body", "code"),
    [("return undefined_name  # <-", "F821"),
     ("x = ctx.region\nif x is 'eu-west-1':  # <-\n    pass", "F632"),
     ("assert (ctx, 'never fails')  # <-", "F631"),
     ("return missing  # noqa: F821  # <-", "F821")],
)
def test_likely_bugs_block_and_noqa_does_not_hide_them(body, code):
    source = tool(body)
    assert (code, marked(source)) in blocking(check_source("check_thing", source))


def test_when_ruff_cannot_run_the_check_fails_closed(monkeypatch):
    monkeypatch.setattr(static_checks, "_ruff_binary", lambda: "/nonexistent/ruff")
    report = check_source("check_thing", tool())
    assert blocking(report) == [("RUF000", 1)]


# --- policy ------------------------------------------------------------------------------------------------

BANNED_MODULES = [
    "subprocess", "os", "os.path", "sys", "socket", "ctypes", "importlib", "pickle", "marshal", "shutil",
    "pathlib", "urllib", "urllib.request", "http.client", "requests", "httpx", "boto3", "botocore",
    "botocore.session", "threading", "multiprocessing", "builtins", "inspect", "gc", "selenium",
    "selenium.webdriver", "re._parser",
]


@pytest.mark.parametrize("module", BANNED_MODULES)
def test_imports_outside_the_allowlist_block(module):
    source = tool(top=f"import {module}  # <-\n")
    assert blocking(check_source("check_thing", source)) == [("POL001", marked(source))]


@pytest.mark.parametrize(
    "statement",
    ["from os import path", "from urllib import request", "from botocore import session",
     "from . import sibling", "from json import *", "from selenium.webdriver import Chrome",
     "from selenium import webdriver"],
)
def test_from_imports_outside_the_allowlist_block(statement):
    source = tool(top=f"{statement}  # <-\n")
    assert ("POL001", marked(source)) in blocking(check_source("check_thing", source))


@pytest.mark.parametrize(
    ("top", "body"),
    [("import urllib.parse", "urllib.request.urlopen('http://example.com')  # <-"),
     ("import botocore.exceptions", "botocore.session.get_session()  # <-"),
     ("import selenium.webdriver.common.by", "selenium.webdriver.Chrome()  # <-")],
)
def test_an_allowed_submodule_import_does_not_open_its_package(top, body):
    source = tool(body, top=top + "\n")
    assert blocking(check_source("check_thing", source)) == [("POL001", marked(source))]


@pytest.mark.parametrize(
    "name",
    ["exec", "eval", "compile", "__import__", "open", "globals", "locals", "vars", "breakpoint", "input",
     "memoryview", "help"],
)
def test_banned_builtins_block_when_called(name):
    source = tool(f"{name}('x')  # <-")
    assert blocking(check_source("check_thing", source)) == [("POL002", marked(source))]


def test_banned_builtins_block_when_only_named():
    source = tool("run_it = eval  # <-\nrun_it('1')")
    assert blocking(check_source("check_thing", source)) == [("POL002", marked(source))]


@pytest.mark.parametrize(
    "expression",
    ["().__class__", "ctx.__dict__", "run.__globals__", "run.__code__", "object.__subclasses__()",
     "int.__mro__", "int.__bases__", "__builtins__", "ctx.__class__.__name__", "'{0.__class__}'.format(ctx)",
     "'{0._client}'.format(ctx)", "getattr(ctx, '__class__')"],
)
def test_dunders_block(expression):
    source = tool(f"x = {expression}  # <-\nprint(x)")
    assert blocking(check_source("check_thing", source)) == [("POL003", marked(source))]


def test_dunders_in_match_patterns_block():
    source = tool("match ctx:\n    case object(__class__=c):  # <-\n        print(c)")
    assert blocking(check_source("check_thing", source)) == [("POL003", marked(source))]


def test_name_and_init_dunders_are_ordinary_code():
    top = "class Base:\n    def __init__(self):\n        self.kind = type(self).__name__\n\n\n" \
          "class Child(Base):\n    def __init__(self):\n        super().__init__()\n        self._seen = []\n"
    assert check_source("check_thing", tool("print(Child().kind, __name__)", top=top)).findings == []


@pytest.mark.parametrize(
    ("top", "body", "code"),
    [("", "name = 'region'\ngetattr(ctx, name)  # <-", "POL004"),
     ("", "name = 'region'\nsetattr(ctx, name, 1)  # <-", "POL004"),
     ("", "name = 'region'\ndelattr(ctx, name)  # <-", "POL004"),
     ("", "get = getattr  # <-\nprint(get)", "POL004"),
     ("import operator", "name = 'region'\noperator.attrgetter(name)  # <-", "POL004"),
     ("from operator import methodcaller", "name = 'x'\nmethodcaller(name)(ctx)  # <-", "POL004"),
     ("import operator", "operator.attrgetter('a.__globals__')  # <-", "POL003"),
     ("", "setattr(ctx, '__class__', int)  # <-", "POL003")],
)
def test_dynamic_attribute_access_blocks(top, body, code):
    source = tool(body, top=top + "\n")
    assert blocking(check_source("check_thing", source)) == [(code, marked(source))]


def test_literal_attribute_names_are_fine():
    top = "from operator import attrgetter, methodcaller\n"
    body = "print(getattr(ctx, 'region', None), attrgetter('region', 'account_id')(ctx))\n" \
           "print(methodcaller('lower')('A'))"
    assert check_source("check_thing", tool(body, top=top)).findings == []


@pytest.mark.parametrize(
    ("top", "body"),
    [("import typing", "typing.sys.modules  # <-"),
     ("import enum", "enum.bltns  # <-"),
     ("import json", "json.codecs  # <-"),
     ("import dataclasses", "dataclasses.inspect  # <-"),
     ("import collections", "collections._sys  # <-"),
     ("import io", "io.open('/etc/passwd')  # <-"),
     ("from io import open  # <-", "pass"),
     ("from reportlab.lib.utils import os  # <-", "pass"),
     ("from reportlab.lib.utils import rl_get_module  # <-", "pass"),
     ("from typing import get_type_hints  # <-", "pass"),
     ("from functools import singledispatch  # <-", "pass"),
     ("from deepdiff import Delta  # <-", "pass"),
     ("", "ctx._broker  # <-"),
     ("", "(x for x in ()).gi_code  # <-")],
)
def test_members_that_lead_out_of_allowed_modules_block(top, body):
    source = tool(body, top=top + "\n")
    assert blocking(check_source("check_thing", source)) == [("POL005", marked(source))]


def test_frame_walks_are_reported_at_each_step():
    source = tool("g = (x for x in ())\nprint(g.gi_frame.f_globals)  # <-")
    assert blocking(check_source("check_thing", source)) == [("POL005", marked(source))] * 2


def test_code_too_deep_to_walk_fails_closed():
    report = check_source("check_thing", tool("x = " + "not " * 1500 + "ctx\nprint(x)"))
    assert ("POL000", 1) in blocking(report)


def test_writing_to_an_output_path_is_ordinary_code():
    body = "with ctx.output_path('report.txt').open('w') as out:\n    out.write('ok')"
    assert check_source("check_thing", tool(body)).findings == []


# The attributes below lead from allowed modules to modules that cannot act on the world by themselves;
# every other module an allowed module holds must be refused by the policy.
HARMLESS_LEAKS = {"abc", "binascii", "contextlib", "copyreg", "keyword", "numbers", "posixpath", "random",
                  "struct", "warnings"}


@pytest.mark.parametrize("module_name", sorted(ALLOWED_MODULES))
def test_no_allowed_module_leaks_an_unchecked_module(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        pytest.skip(f"{module_name} is not installed")
    leaks = sorted(
        attr for attr, value in vars(module).items()
        if isinstance(value, types.ModuleType) and value.__name__ not in HARMLESS_LEAKS
        and not any(value.__name__ == m or value.__name__.startswith(m + ".") for m in ALLOWED_MODULES)
        and not re.fullmatch(r"__\w+__", attr)
    )
    uses = [f"print({module_name}.{attr})" for attr in leaks]
    source = tool("\n".join(uses) or "pass", top=f"import {module_name}\n")
    report = check_source("check_thing", source)
    flagged = {f.line for f in report.findings if f.code in ("POL001", "POL005")}
    lines = source.split("\n")
    assert [use for use in uses if lines.index(f"    {use}") + 1 not in flagged] == []


# --- text ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["x = 1  # admin \u202e }nimda{ # <-", "x = 'user\u2067'  # <-", "x = 'a\u200f'  # <-",
     "x = '\u061c'  # <-"],
)
def test_bidi_controls_block(body):
    source = tool(body + "\nprint(x)")
    report = check_source("check_thing", source)
    assert blocking(report) == [("UNI001", marked(source))]
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", report.render())


@pytest.mark.parametrize("char", ["\x1b", "\x00", "\x7f", "\x85", "\u2028", "\x0c"])
def test_control_characters_block(char):
    source = tool(f"x = 1  # a{char}b  # <-\nprint(x)")
    report = check_source("check_thing", source)
    assert ("UNI002", marked(source)) in blocking(report)
    assert char not in report.render()


@pytest.mark.parametrize(
    ("body", "expected"),
    [("ｘ = 1  # <-\nprint(x)", ["UNI003"]),
     ("а = 1  # <-\nprint(а)", ["UNI003", "UNI003"]),  # Cyrillic a, twice
     ("ｅｘｅｃ('1')  # <-", ["POL002", "UNI003"])],
)
def test_non_ascii_identifiers_block(body, expected):
    source = tool(body)
    report = check_source("check_thing", source)
    assert sorted(code for code, _ in blocking(report)) == expected
    assert ("UNI003", marked(source)) in blocking(report)


def test_a_full_width_identifier_is_named_by_what_python_reads():
    report = check_source("check_thing", tool("ｅｘｅｃ('1')"))
    assert "Python reads it as 'exec'" in report.render()
    assert "ｅ" not in report.render()


def test_zero_width_characters_in_strings_only_warn():
    source = tool("x = 'zero\u200bwidth'  # <-\nprint(x)")
    report = check_source("check_thing", source)
    assert [(f.code, f.line, f.blocking) for f in report.findings] == [("UNI004", marked(source), False)]
    assert "U+200B" in report.render()


def test_other_non_ascii_text_in_strings_and_comments_is_fine():
    source = tool("# Prüfung der Protokolle — café ✓\nprint('Größe: 5 µs, 東京')")
    assert check_source("check_thing", source).findings == []


# --- the report ---------------------------------------------------------------------------------------------


def test_findings_are_sorted_by_line_and_rendered_one_per_line():
    source = tool("exec('1')\nx = ctx.__class__\nundefined_name", top="import os\n")
    report = check_source("check_thing", source)
    lines = [f.line for f in report.findings]
    assert lines == sorted(lines)
    rendered = report.render().splitlines()
    assert len(rendered) == len(report.findings)
    assert all(re.fullmatch(r"L\d+: [A-Z]+[0-9]+ .+", line) for line in rendered)
    assert rendered[0].startswith("L2: POL001 import of os")


def test_report_round_trips_through_json():
    report = check_source("check_thing", tool("exec('1')"))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["blocking"] is True
    assert data["findings"][0] == {"line": 7, "col": 5, "code": "POL002", "message": "exec is not allowed",
                                   "blocking": True}
    assert CheckReport.from_dict(data) == report


def test_a_report_with_only_warnings_does_not_block():
    report = CheckReport("t", "0" * 64, [Finding(3, 1, "F401", "`json` imported but unused", False)])
    assert not report.blocking
    assert report.render() == "L3: F401 `json` imported but unused (warning)"

