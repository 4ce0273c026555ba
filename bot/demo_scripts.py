"""Recorded Claude turns for `auditbot demo` (and the end-to-end tests and benchmarks).

Each scenario is a request and the turns Claude gave for it. Turns that depend on what the tools
returned are functions of the request body, as a live model's would be.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.recorded_tools import source
from workers.scripted_claude import text, tool_use

Turn = Any
ROUNDS = 8  # enough adaptive turns for any path through a scenario (write, call, fix, call, answer)


@dataclass(frozen=True)
class Scenario:
    name: str
    request: str
    turns: Callable[[], list[Turn]]


def last_tool_result(body: dict[str, Any]) -> str:
    """The text of the newest tool_result Claude was sent."""
    for message in reversed(body["messages"]):
        if message["role"] == "user" and isinstance(message["content"], list):
            for block in message["content"]:
                if block.get("type") == "tool_result":
                    content = block.get("content")
                    return content if isinstance(content, str) else json.dumps(content)
    return ""


def last_tool_call(body: dict[str, Any]) -> str | None:
    """The name of the tool Claude called in its previous turn, if any."""
    for message in reversed(body["messages"]):
        if message["role"] == "assistant":
            names = [b["name"] for b in message["content"] if b.get("type") == "tool_use"]
            return names[-1] if names else None
    return None


def offered(body: dict[str, Any], tool: str, mentions: str = "") -> bool:
    """Whether Claude is offered `tool` (and its schema mentions `mentions`): then it needs no new code."""
    return any(t["name"] == tool and mentions in json.dumps(t) for t in body.get("tools", []))


def summary_of(result: str) -> str:
    found = re.search(r'"summary": "((?:[^"\\]|\\.)*)"', result)
    return found.group(1) if found else result[:400]


def adaptive(tool: str, arguments: dict[str, Any], write: tuple[str, dict[str, Any]], answer: str,
             mentions: str = "") -> list[Turn]:
    """What Claude does when a tool may be missing: write it once, call it, then answer from its result.

    A repeat request finds the tool offered and calls it at once; an error result is reported, not retried.
    """
    def turn(body: dict[str, Any]) -> Turn:
        previous = last_tool_call(body)
        if previous is None:
            if offered(body, tool, mentions):
                return tool_use(tool, arguments, text=f"{tool} fits; running it.")
            return tool_use(*write, text=f"No tool does this yet; writing {write[1].get('tool_name', tool)}.")
        if previous == write[0]:
            return tool_use(tool, arguments, text="The checks and selftest passed; running it (needs approval).")
        return text(f"{answer} {summary_of(last_tool_result(body))}")
    return [turn] * ROUNDS


def cloudwatch_logs_turns(fmt: str = "json") -> list[Turn]:
    return adaptive(
        "export_cloudwatch_logs", {"log_group": "prod-app-logs", "days": 7, "format": fmt},
        ("generate_new_tool", {
            "tool_name": "export_cloudwatch_logs",
            "description": "Export the events of a CloudWatch Logs log group over the last N days.",
            "parameters": [{"name": "log_group", "type": "string", "required": True},
                           {"name": "days", "type": "integer"}, {"name": "format", "type": "string"}],
            "functionality": "page through filter_log_events for the window and save JSON, CSV or PDF",
            "aws_services": ["logs"], "libraries_needed": ["reportlab"],
            "code": source("export_cloudwatch_logs")}),
        "Exported the log group.")


def dynamodb_screenshot_turns() -> list[Turn]:
    return adaptive(
        "aws_take_screenshot", {"service": "dynamodb", "resource": "user-sessions", "tab": "monitoring"},
        ("add_functionality_to_tool", {
            "existing_tool": "aws_take_screenshot",
            "new_functionality": "DynamoDB table pages (overview, monitoring = the Metrics tab)",
            "code_to_add": DYNAMODB_LINKS, "insertion_point": "CONSOLE_LINKS"}),
        "Here is the Metrics tab of user-sessions.", mentions="dynamodb")


def rds_compare_turns() -> list[Turn]:
    return adaptive(
        "compare_rds_snapshots", {"snapshot_a": "snap-old", "snapshot_b": "snap-new"},
        ("generate_new_tool", {
            "tool_name": "compare_rds_snapshots",
            "description": "Compare two RDS DB snapshots and report every setting that differs.",
            "parameters": [{"name": "snapshot_a", "type": "string", "required": True},
                           {"name": "snapshot_b", "type": "string", "required": True}],
            "functionality": "describe both snapshots (with config tags) and diff them with deepdiff",
            "aws_services": ["rds"], "libraries_needed": ["deepdiff"],
            "code": source("compare_rds_snapshots")}),
        "Compared the snapshots.")


def summarise_export(body: dict[str, Any]) -> Turn:
    result = last_tool_result(body)
    return text(f"Done. {summary_of(result)}. The JSON file and its manifest "
                "(sha256, account, region, time window) are attached in this thread.")


def export_logs_turns() -> list[Turn]:
    since = int((datetime.now(UTC) - timedelta(days=7)).timestamp() * 1000)
    return [
        tool_use("aws_export_data", {
            "service": "logs", "operation": "filter_log_events",
            "parameters": {"logGroupName": "prod-app-logs", "startTime": since},
            "format": "json", "file_name": "prod-app-logs-7d",
        }, text="I'll export every event of prod-app-logs from the last 7 days with aws_export_data."),
        summarise_export,
    ]


DYNAMODB_LINKS = '''CONSOLE_LINKS["dynamodb"] = {
    "table": Link("dynamodbv2/home?region={region}#table?name={resource}", "&tab={tab}"),
}

PARAMETERS = {
    "type": "object",
    "properties": {
        "service": {"type": "string",
                    "description": "console to open: rds, s3, ec2, lambda, iam, cloudwatch or dynamodb"},
        "resource": {"type": "string", "description": "the resource's id or name (DB identifier, bucket...)"},
        "tab": {"type": "string", "description": "optional tab, e.g. configuration, monitoring, properties"},
        "resource_type": {
            "type": "string",
            "description": "optional, default the first: rds instance|cluster|snapshot; s3 bucket; "
                           "ec2 instance|security_group|volume; lambda function; iam user|role|policy; "
                           "cloudwatch log_group|alarm; dynamodb table (tab: overview, monitoring, ...)",
        },
    },
    "required": ["service", "resource"],
}
'''


SCENARIOS = {s.name: s for s in [
    Scenario("export-logs", "Export CloudWatch log group prod-app-logs for the last 7 days to JSON with the "
                            "generic exporter", export_logs_turns),
    Scenario("cloudwatch-logs", "Export CloudWatch log group prod-app-logs from the last 7 days to JSON",
             cloudwatch_logs_turns),
    Scenario("cloudwatch-logs-pdf", "Export CloudWatch log group prod-app-logs from the last 7 days as a PDF",
             lambda: cloudwatch_logs_turns("pdf")),
    Scenario("dynamodb-screenshot", "Take a screenshot of DynamoDB table user-sessions Metrics tab",
             dynamodb_screenshot_turns),
    Scenario("rds-compare", "Compare RDS snapshots snap-old and snap-new and show what changed", rds_compare_turns),
]}
