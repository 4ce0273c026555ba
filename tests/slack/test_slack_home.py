"""The App Home tab: `views.publish` payloads, checked against Block Kit limits, for approvers and others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services import redis_connection
from tests.conftest import APPROVER, REQUESTER
from tests.slack.blockkit import view_problems
from tests.slack.helpers import ask, old_evidence, open_card, register_tool, section_texts, views
from workers.registry import Registry
from workers.scripted_claude import text
from workers.settings import load_settings

pytestmark = pytest.mark.slow

TOOL = '''"""Report {what}."""

PARAMETERS = {{"type": "object", "properties": {{}}}}


def run(ctx):
    return {{"summary": "none"}}
'''


def open_home(web, slack, user: str) -> dict:
    before = len(views(slack, user))
    web.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home",
               "event_ts": "1700000000.000001"}, event_id=f"EvHome{user}{before}")
    slack.wait_for("views.publish", predicate=lambda c: c.args.get("user_id") == user and c.status == 200,
                   count=before + 1)
    view = views(slack, user)[-1]
    assert view_problems(view) == [], view_problems(view)
    return view


def headers(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "header"]


def test_home_shows_catalog_requests_stale_evidence_and_approvals_to_approvers(web, slack, claude, conn, env,
                                                                             tmp_path):
    settings = load_settings()
    Registry(redis_connection(settings), settings.auditbot_data_dir).sync_builtins()
    register_tool("iam_mfa_report", TOOL.format(what="IAM users without MFA"), APPROVER)
    open_card(conn, slack, "s3_public_report", TOOL.format(what="public S3 buckets"),
              job_id="20240501T120000-abcdef12", thread_ts="1700000800.000100")
    old_evidence(settings.auditbot_evidence_dir, "20230101T000000-0ld0ld00", "aws_export_data",
                 datetime.now(UTC) - timedelta(days=800), "Export the 2023 logs", tmp_path)
    claude.enqueue(text("Nothing to collect."))
    ask(web, conn, "Check the CloudTrail trails", event_id="EvH1", ts="1700000900.000100")

    approver = open_home(web, slack, APPROVER)
    shown = section_texts(approver["blocks"])
    assert headers(approver)[:2] == ["auditbot", "Tool catalog (6 tools)"]
    assert "*iam_mfa_report* v1 · approved by <@UAPPROVER>" in shown and "*aws_export_data* v1" in shown
    assert "Pending approvals (1)" in headers(approver) and "*s3_public_report* v1" in shown
    assert "https://t1.slack.com/archives/C1/p" in shown and "thread_ts=1700000800.000100" in shown
    assert "Evidence to collect again (1)" in headers(approver)
    assert "`20230101T000000-0ld0ld00`" in shown and ":warning: *collect again*" in shown

    requester = open_home(web, slack, REQUESTER)
    mine = section_texts(requester["blocks"])
    assert not any(h.startswith("Pending approvals") for h in headers(requester))
    assert ":white_check_mark:" in mine and "· done ·" in mine and "Check the CloudTrail trails" in mine
    assert "<https://t1.slack.com/archives/C1/p1700000900000100|thread>" in mine


def test_home_of_a_large_library_stays_within_block_kit_limits(web, slack, conn, env, tmp_path):
    settings = load_settings()
    tools = Registry(redis_connection(settings), settings.auditbot_data_dir)
    for n in range(400):
        tools.add_version(f"report_number_{n:03d}_with_a_rather_long_descriptive_name", TOOL.format(what=n),
                          parent=None, approver=APPROVER)
    for n in range(14):
        open_card(conn, slack, f"pending_{n:02d}", TOOL.format(what=n), job_id=f"20240501T1200{n:02d}-abcdef12",
                  thread_ts=f"1700001000.{n:06d}")
    for n in range(25):
        old_evidence(settings.auditbot_evidence_dir, f"20230101T0000{n:02d}-0ld0ld00", "aws_export_data",
                     datetime.now(UTC) - timedelta(days=500 + n), f"Old export {n}", tmp_path)

    view = open_home(web, slack, APPROVER)
    shown = section_texts(view["blocks"])
    assert len(view["blocks"]) <= 100
    assert "Tool catalog (400 tools)" in headers(view) and "more: `/audit tools`" in shown
    assert "Pending approvals (14)" in headers(view) and "… and 4 more: `/audit approvals`." in shown
    assert "Evidence to collect again (25)" in headers(view) and "… and 15 more: `/audit evidence 20`." in shown


def test_slack_429_on_views_publish_is_retried_by_the_sdk(web, slack):
    slack.fail_next("views.publish", retry_after=1)
    open_home(web, slack, REQUESTER)
    assert [c.status for c in slack.calls_to("views.publish")] == [429, 200]
