"""aws_export_data against the seeded estate, through the real sandbox and broker."""

from __future__ import annotations

import csv
import json

import pytest

from tools.aws_export_data import snake_case

LOG_GROUP = "prod-app-logs"


@pytest.fixture
def seeded_events(simulated_aws, estate) -> dict[str, dict]:
    """Every event of the big log group by eventId, read directly (more than one 10,000-event page)."""
    pages = simulated_aws.client("logs").get_paginator("filter_log_events").paginate(logGroupName=LOG_GROUP)
    events = {e["eventId"]: e for page in pages for e in page["events"]}
    assert len(events) == estate["logs"][LOG_GROUP] > 10_000
    return events


def test_filter_log_events_to_json_loses_no_event(run_builtin, evidence_file, seeded_events):
    run = run_builtin("aws_export_data", service="logs", operation="filter_log_events",
                      parameters={"logGroupName": LOG_GROUP})

    exported = json.loads(evidence_file(run).read_text())
    assert exported["service"] == "logs" and exported["operation"] == "filter_log_events"
    assert exported["parameters"] == {"logGroupName": LOG_GROUP}
    assert {e["eventId"]: e for e in exported["items"]} == seeded_events
    assert len(exported["items"]) == len(seeded_events)
    [call] = run.calls
    assert exported["pages"] == call.pages >= 2 and call.pagination_complete is True
    assert run.value["summary"] == (f"Exported {len(seeded_events)} items from logs.filter_log_events "
                                    f"({call.pages} pages) to logs_filter_log_events.json")


def test_filter_log_events_to_csv_by_api_name_loses_no_event(run_builtin, evidence_file, seeded_events):
    run = run_builtin("aws_export_data", service="logs", operation="FilterLogEvents",
                      parameters={"logGroupName": LOG_GROUP}, format="csv", file_name="app logs.csv")

    path = evidence_file(run)
    assert path.name == "app_logs.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(seeded_events)
    assert {"eventId", "logStreamName", "timestamp", "message", "ingestionTime"} <= set(rows[0])
    # messages hold quotes and commas: they must come back from the CSV exactly
    assert {r["eventId"]: (r["message"], int(r["timestamp"])) for r in rows} == {
        i: (e["message"], e["timestamp"]) for i, e in seeded_events.items()}
    summary = run.value["summary"]
    assert summary.startswith(f"Exported {len(seeded_events)} items from logs.filter_log_events (")


def test_csv_flattens_nested_dicts_to_dotted_columns_and_keeps_lists_as_json(run_builtin, evidence_file):
    run = run_builtin("aws_export_data", service="rds", operation="DescribeDBInstances", format="csv")

    with evidence_file(run).open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["DBInstanceIdentifier"] == "prod-db"
    assert row["Endpoint.Port"] == "5432"
    assert isinstance(json.loads(row["VpcSecurityGroups"]), list)
    assert row["InstanceCreateTime"].startswith("20") and "T" in row["InstanceCreateTime"]
    assert run.value["result_key"] == "DBInstances"


def test_csv_header_is_the_union_of_every_items_keys(run_builtin, evidence_file, estate):
    run = run_builtin("aws_export_data", service="dynamodb", operation="scan",
                      parameters={"TableName": "user-sessions"}, format="csv")

    with evidence_file(run).open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert sorted(rows[0]) == ["expires_at.N", "session_id.S", "user.S"]
    assert len(rows) == 1 + estate["dynamodb"]["user-sessions"]


def test_a_response_without_a_list_is_exported_as_one_item(run_builtin, evidence_file):
    run = run_builtin("aws_export_data", service="s3", operation="get_bucket_policy",
                      parameters={"Bucket": "acme-public-site"}, file_name="../../policy")

    exported = json.loads(evidence_file(run).read_text())
    assert evidence_file(run).name == "policy.json"
    [item] = exported["items"]
    assert json.loads(item["Policy"])["Statement"][0]["Sid"] == "PublicRead"
    assert run.value["summary"] == "Exported 1 item from s3.get_bucket_policy (1 page) to policy.json"


def test_a_write_operation_is_refused_before_any_call(run_builtin):
    run = run_builtin("aws_export_data", service="ec2", operation="TerminateInstances",
                      parameters={"InstanceIds": ["i-1"]})

    assert not run.ok and run.error_type == "ValueError"
    assert "ec2.terminate_instances is not a read operation" in run.error
    assert run.calls == [] and run.files == []


def test_an_unknown_service_fails_with_the_brokers_reason(run_builtin):
    run = run_builtin("aws_export_data", service="nosuchservice", operation="list_things")

    assert not run.ok and run.files == []
    assert "'nosuchservice' is not an AWS service known to auditbot" in run.error


@pytest.mark.parametrize(("name", "snake"), [
    ("FilterLogEvents", "filter_log_events"), ("DescribeDBInstances", "describe_db_instances"),
    ("ListIPSets", "list_ip_sets"), ("filter_log_events", "filter_log_events"),
    (" GetBucketPolicy ", "get_bucket_policy"),
])
def test_api_names_become_snake_case(name, snake):
    assert snake_case(name) == snake
