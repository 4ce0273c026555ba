"""Export the result of any read-only AWS API operation, through all its pages, to a JSON or CSV file.

Use it when no dedicated tool covers the data: e.g. service "logs", operation "filter_log_events",
parameters {"logGroupName": "/aws/lambda/x"}. Only reads are allowed (Describe, List, Get, Lookup, Filter,
Search, BatchGet, Head, Query, Scan); the broker enforces the same rule.
"""

import csv
import json
import re
from datetime import date
from typing import Any

PARAMETERS = {
    "type": "object",
    "properties": {
        "service": {"type": "string", "description": "boto3 service name, e.g. logs, ec2, iam, s3, rds"},
        "operation": {"type": "string",
                      "description": "read operation, snake_case or API name, e.g. filter_log_events"},
        "parameters": {"type": "object", "description": "the operation's request parameters (default none)"},
        "format": {"type": "string", "enum": ["json", "csv"], "default": "json"},
        "result_key": {"type": "string",
                       "description": "which list in the response to export; default: the first list"},
        "file_name": {"type": "string", "description": "evidence file name; default: service_operation"},
    },
    "required": ["service", "operation"],
}

READ_OPERATION = re.compile(r"^(describe|list|get|lookup|filter|search|batch_get|head|query|scan)(_|$)")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def run(ctx, service, operation, parameters=None, format="json", result_key=None, file_name=None):
    operation = snake_case(operation)
    if not READ_OPERATION.match(operation):
        raise ValueError(not_a_read(service, operation))
    parameters = parameters or {}
    client = ctx.client(service)
    items: list[Any] = []
    pages = 0
    for page in _pages(client, operation, parameters):
        pages += 1
        if pages == 1 and result_key is None:
            result_key = _first_list_key(page)
        items.extend(_page_items(page, result_key))
        ctx.progress(f"{service}.{operation}: page {pages}, {len(items)} items")
    name = _file_name(file_name or f"{service}_{operation}", format)
    if format == "csv":
        _write_csv(ctx.output_path(name), items)
    else:
        ctx.save_json(name, {"service": service, "operation": operation, "parameters": parameters,
                             "items": items, "pages": pages})
    return {"summary": f"Exported {_count(len(items), 'item')} from {service}.{operation} "
                       f"({_count(pages, 'page')}) to {name}",
            "items": len(items), "pages": pages, "result_key": result_key, "file": name}


def not_a_read(service: str, operation: str) -> str:
    return (f"{service}.{operation} is not a read operation: only operations starting with Describe, List, "
            "Get, Lookup, Filter, Search, BatchGet, Head, Query or Scan can be exported")


def snake_case(operation: str) -> str:
    """FilterLogEvents and DescribeDBInstances -> filter_log_events and describe_db_instances."""
    return _CAMEL_BOUNDARY.sub("_", operation.strip()).lower()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _pages(client, operation: str, parameters: dict[str, Any]):
    if client.can_paginate(operation):
        yield from client.get_paginator(operation).paginate(**parameters)
    else:
        # the operation name comes from the caller; it was checked above to be a read
        yield getattr(client, operation)(**parameters)


def _first_list_key(page: dict[str, Any]) -> str | None:
    return next((k for k, v in page.items() if k != "ResponseMetadata" and isinstance(v, list)), None)


def _page_items(page: dict[str, Any], result_key: str | None) -> list[Any]:
    """The chosen list; a response without any list (e.g. GetBucketPolicy) is exported as one item."""
    if result_key is None:
        return [{k: v for k, v in page.items() if k != "ResponseMetadata"}]
    return page.get(result_key) or []


def _file_name(requested: str, format: str) -> str:
    """Keep names to one safe path component with the format's extension."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", requested).strip("._")[:100] or "export"
    stem = re.sub(r"\.(json|csv)$", "", stem, flags=re.IGNORECASE)
    return f"{stem}.{format}"


def _write_csv(path, items: list[Any]) -> None:
    """One row per item; the header is the union of every item's flattened keys, in first-seen order."""
    rows = [_flatten(item) for item in items]
    header = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(column, "") for column in header])


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts become dotted columns; lists stay whole as JSON so no cell count depends on the data."""
    if not isinstance(value, dict):
        return {prefix or "value": _cell(value)}
    flat: dict[str, Any] = {}
    for key, inner in value.items():
        column = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(inner, dict) and inner:
            flat.update(_flatten(inner, column))
        else:
            flat[column] = _cell(inner)
    return flat


def _cell(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=str, sort_keys=True)
    return "" if value is None else value
