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

from workers.scripted_claude import text, tool_use

Turn = Any


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


def summarise_export(body: dict[str, Any]) -> Turn:
    result = last_tool_result(body)
    found = re.search(r'"summary": "([^"]+)"', result)
    return text(f"Done. {found.group(1) if found else result[:300]}. The JSON file and its manifest "
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


SCENARIOS = {
    "export-logs": Scenario("export-logs", "Export CloudWatch log group prod-app-logs for the last 7 days to JSON",
                            export_logs_turns),
}
