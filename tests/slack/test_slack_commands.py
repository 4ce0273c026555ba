"""Every `/audit` subcommand through the real app over signed HTTP: ephemeral answers within Block Kit limits."""

from __future__ import annotations

import pytest

from bot.services import redis_connection
from tests.conftest import APPROVER, REQUESTER, wait_until
from tests.slack.helpers import ask, open_card, queued, register_tool, reply_text
from workers.job_state import JobStore
from workers.registry import Registry
from workers.scripted_claude import text, tool_use
from workers.settings import load_settings
from workers.tool_usage import ToolUsage

pytestmark = pytest.mark.slow

REPORT_TOOL = '''"""Report IAM users without MFA."""

PARAMETERS = {"type": "object", "properties": {}}


def run(ctx):
    return {"summary": "none"}
'''


def registry() -> Registry:
    settings = load_settings()
    return Registry(redis_connection(settings), settings.auditbot_data_dir)


def test_help_and_tools_list_the_catalog_with_versions_approvers_and_last_use(web, conn, env):
    registry().sync_builtins()
    register_tool("iam_mfa_report", REPORT_TOOL, APPROVER)
    ToolUsage(conn).record("iam_mfa_report", ok=True, job_id="j1", user=REQUESTER, request="MFA report")

    catalog = reply_text(web.command("tools"))
    assert "Tool catalog" in catalog
    assert "*aws_export_data* v1 · approved by built-in · last used never" in catalog
    assert "*iam_mfa_report* v1 · approved by <@UAPPROVER> · last used 0 s ago" in catalog
    assert "/audit cancel <job>" in reply_text(web.command("help"))
    assert "/audit approvals" in reply_text(web.command(""))


def test_status_and_evidence_link_to_the_request_thread(web, slack, claude, conn, env):
    claude.enqueue(tool_use("list_aws_resources", {"resource_types": ["s3_buckets"]}), text("Listed the buckets."))
    ask(web, conn, "List S3 buckets", event_id="EvS3", ts="1700000100.000100")
    job = JobStore(conn).load(conn.zrange(f"auditbot:user:slack:{REQUESTER}:jobs", 0, 0)[0].decode())
    assert job is not None and job.status == "done"
    thread = "https://t1.slack.com/archives/C1/p1700000100000100"

    mine = reply_text(web.command("status"))
    assert f"`{job.id}` · done" in mine and thread in mine and "List S3 buckets" in mine
    one = reply_text(web.command(f"status {job.id}"))
    assert f"*Job `{job.id}`*: done" in one and "2 Claude turn(s)" in one and thread in one
    assert "I don't know job `20990101T000000-deadbeef`" in reply_text(web.command("status 20990101T000000-deadbeef"))
    assert "I don't know job" in reply_text(web.command(f"status {job.id}", user="UOTHER")), "others' jobs stay private"
    assert f"*Job `{job.id}`*: done" in reply_text(web.command(f"status {job.id}", user=APPROVER))

    evidence = reply_text(web.command("evidence 3"))
    assert "Newest evidence (1)" in evidence and f"`{job.id}`" in evidence
    assert "list_aws_resources" in evidence and thread in evidence
    assert "n from 1 to 20" in reply_text(web.command("evidence 50"))


def test_words_that_do_not_fit_a_subcommand_are_a_request(web, slack, conn):
    assert web.command("evidence of MFA for every IAM user").status_code == 200
    root = slack.wait_for("chat.postMessage")[0]
    assert "asked via /audit: evidence of MFA for every IAM user" in root.args["text"]
    slack.wait_for("chat.postMessage", count=2)
    wait_until(lambda: queued(conn) == 1)  # the job is stored and enqueued just after the status line


def test_approvals_lists_pending_versions_with_links_to_their_cards(web, slack, conn, env):
    open_card(conn, slack, "iam_mfa_report", REPORT_TOOL, job_id="20240501T120000-abcdef12",
              thread_ts="1700000200.000100")
    card = slack.calls_to("chat.postMessage")[0].response

    link = f"https://t1.slack.com/archives/C1/p{card['ts'].replace('.', '')}?thread_ts=1700000200.000100&cid=C1"
    everyone = reply_text(web.command("approvals", user=APPROVER))
    assert "Pending approvals (1)" in everyone and "*iam_mfa_report* v1 · asked by <@UREQUESTER>" in everyone
    assert link in everyone and "expires in 71 h" in everyone
    own = reply_text(web.command("approvals", user=REQUESTER))
    assert link in own and "Only approvers see every pending version" in own
    other = reply_text(web.command("approvals", user="UOTHER"))
    assert "Pending approvals (0)" in other and "Nothing is waiting" in other
