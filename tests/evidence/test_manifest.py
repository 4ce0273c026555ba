"""The manifest of a real run: request, identity, every AWS call with its pagination, window, tool, files."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from tests.conftest import APPROVER, REQUESTER
from tests.evidence.conftest import REQUEST
from workers.freshness import due_date

FIRST_PAGE_ONLY = '''"""Read the first page of a log group's events and stop (a careless tool, for this test)."""

PARAMETERS = {"type": "object", "properties": {"log_group": {"type": "string"}}, "required": ["log_group"]}


def run(ctx, log_group):
    pages = ctx.client("logs").get_paginator("filter_log_events").paginate(logGroupName=log_group)
    for page in pages:
        ctx.save_json("first_page.json", page["events"])
        break
    return {"summary": "read one page"}
'''


def test_a_paginated_export_is_recorded_in_full(collect):
    since = datetime.now(UTC) - timedelta(days=7)
    outcome = collect("aws_export_data", service="logs", operation="filter_log_events",
                      parameters={"logGroupName": "prod-app-logs", "startTime": int(since.timestamp() * 1000)},
                      file_name="prod-app-logs-7d")
    assert not outcome.is_error, outcome.text

    manifest = json.loads((collect.evidence.directory / "manifest.json").read_text())
    assert manifest["request"] == {**manifest["request"], "text": REQUEST, "user": REQUESTER, "channel": "C1"}
    assert manifest["identity"] == {"account": "123456789012", "partition": "aws", "region": "us-east-1",
                                    "caller_arn": manifest["identity"]["caller_arn"]}
    assert manifest["identity"]["caller_arn"].startswith("arn:aws:")
    run = manifest["runs"][0]
    assert (run["tool"], run["version"], run["approver"]) == ("aws_export_data", 1, "built-in")
    assert len(run["code_sha256"]) == 64 and run["approved_at"]
    call = run["api_calls"][-1]
    assert (call["service"], call["operation"]) == ("logs", "FilterLogEvents")
    assert call["pages"] >= 2 and call["pagination_complete"] is True and call["items"] == 12_500
    assert call["request_ids"] and call["params"]["logGroupName"] == "prod-app-logs"
    assert run["window"]["kind"] == "range" and run["window"]["source"] == "logs:FilterLogEvents parameters"
    assert run["window"]["start"] == since.replace(microsecond=0).isoformat()
    (entry,) = manifest["files"]
    data = (collect.evidence.directory / "prod-app-logs-7d.json").read_bytes()
    assert entry == {"name": "prod-app-logs-7d.json", "media_type": "application/json", "size": len(data),
                     "sha256": hashlib.sha256(data).hexdigest(), "tool": "aws_export_data", "run": 1}
    assert run["renew_by"] == due_date(datetime.fromisoformat(run["ended"]).date(), "1y").isoformat()


def test_a_tool_that_stops_paginating_is_recorded_as_incomplete(collect):
    collect.approve("first_page_only", FIRST_PAGE_ONLY)

    outcome = collect("first_page_only", log_group="prod-app-logs")

    call = collect.manifest["runs"][0]["api_calls"][0]
    assert call["operation"] == "FilterLogEvents" and call["pages"] == 1
    assert call["pagination_complete"] is False and call["items"] < 12_500
    assert collect.manifest["runs"][0]["approver"] == APPROVER
    assert outcome.is_error and "logs:FilterLogEvents stopped before its last page" in outcome.text


def test_finishing_sets_the_job_window_and_renewal(collect):
    collect("aws_export_data", service="iam", operation="list_users", format="csv")
    collect.approve("first_page_only", FIRST_PAGE_ONLY)
    collect("first_page_only", log_group="prod-app-logs")

    collect.evidence.finish(collection={**collect.manifest["collection"], "ended": "2030-01-01T00:00:00+00:00"})

    manifest = json.loads((collect.evidence.directory / "manifest.json").read_text())
    point, no_window = (r["window"] for r in manifest["runs"])
    assert point["kind"] == "point in time" and no_window["kind"] == "point in time"
    assert manifest["time_window"] is None
    assert manifest["renew_by"] == min(r["renew_by"] for r in manifest["runs"])
    assert manifest["signing"]["algorithm"] == "Ed25519"
