"""Capture AWS API data as an evidence page: a readable HTML table with the evidence banner, as a PNG.

Use it where a console screenshot is wanted but console sign-in is not possible or not wanted: e.g.
service "iam", operation "list_users"; or "rds", "describe_db_instances" with columns
["DBInstanceIdentifier", "Engine", "StorageEncrypted"]. Every page of the read-only operation is read;
the page shows the first rows, and the full data is saved as CSV and JSON beside the PNG.
"""

import html
import json
import re
from datetime import date

PARAMETERS = {
    "type": "object",
    "properties": {
        "service": {"type": "string", "description": "boto3 service name, e.g. iam, rds, ec2, s3"},
        "operation": {"type": "string", "description": "read operation in snake_case, e.g. list_users"},
        "parameters": {"type": "object", "description": "the operation's request parameters (default none)"},
        "result_key": {"type": "string", "description": "which list in the response to show; default the first"},
        "columns": {"type": "array", "items": {"type": "string"},
                    "description": "fields to show, dotted for nested ones (e.g. Endpoint.Address); default all"},
        "title": {"type": "string", "description": "page title; default service.operation"},
        "file_name": {"type": "string", "description": "name stem of the PNG, CSV and JSON files"},
    },
    "required": ["service", "operation"],
}

READ_OPERATION = re.compile(r"^(describe|list|get|lookup|filter|search|batch_get|head|query|scan)(_|$)")
PAGE_ROWS = 300  # rows drawn on the page; the CSV and JSON hold every row
WINDOW_WIDTH = 1440
STYLE = """
body { font: 13px/1.35 -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 0 16px 16px; color: #111; }
h1 { font-size: 20px; margin: 12px 0 4px; }
p.meta { color: #444; margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; word-break: break-word; }
th { background: #1f3a5f; color: #fff; }
tr:nth-child(even) td { background: #f0f3f7; }
"""


def run(ctx, service, operation, parameters=None, result_key=None, columns=None, title=None, file_name=None):
    if not READ_OPERATION.match(operation):
        raise ValueError(f"{service}.{operation} is not a read operation (describe_, list_, get_ ...)")
    parameters = parameters or {}
    title = title or f"{service}.{operation}"
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", file_name or f"{service}_{operation}").strip("_")[:100] or "evidence_page"
    shown = []

    def rows():
        for item in _items(ctx, service, operation, parameters, result_key):
            row = flatten(item)
            if columns:
                row = {c: row.get(c) for c in columns}
            if len(shown) < PAGE_ROWS:
                shown.append(row)
            yield row

    table = ctx.save_table(stem, rows(), formats=["csv", "json"], columns=columns, title=title)
    ctx.progress(f"{title}: {table['rows']} rows read; rendering the evidence page")
    page = render_page(title, service, operation, parameters, table["columns"], shown, table["rows"],
                       table["files"]["csv"])
    with ctx.browser() as driver:
        driver.set_window_size(WINDOW_WIDTH, 900)
        driver.get("about:blank")
        driver.execute_script("document.open(); document.write(arguments[0]); document.close();", page)
        captured = ctx.capture(driver, f"{stem}.png", source=f"AWS API {service}.{operation} (evidence page)")
    return {"summary": f"Evidence page of {title}: {table['rows']} rows ({min(len(shown), table['rows'])} shown) "
                       f"in {captured['file']}; all rows in {table['files']['csv']} and {table['files']['json']}",
            "rows": table["rows"], "file": captured["file"], "data_files": list(table["files"].values()),
            "banner": captured["banner"]}


def _items(ctx, service, operation, parameters, result_key):
    client = ctx.client(service)
    if client.can_paginate(operation):
        pages = client.get_paginator(operation).paginate(**parameters)
    else:
        pages = [getattr(client, operation)(**parameters)]
    for page in pages:
        key = result_key or next((k for k, v in page.items() if k != "ResponseMetadata" and isinstance(v, list)),
                                 None)
        if key is None:
            yield {k: v for k, v in page.items() if k != "ResponseMetadata"}
        else:
            yield from page.get(key) or []


def flatten(value, prefix=""):
    """Nested dicts become dotted fields; lists stay whole, as JSON."""
    if not isinstance(value, dict):
        return {prefix or "value": _cell(value)}
    flat = {}
    for key, inner in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(inner, dict) and inner:
            flat.update(flatten(inner, name))
        else:
            flat[name] = _cell(inner)
    return flat


def _cell(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=str, sort_keys=True)
    return value


def render_page(title, service, operation, parameters, columns, rows, total, csv_name):
    """The page as HTML; every value is escaped."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if r.get(c) is None else str(r.get(c)))}</td>"
                                    for c in columns) + "</tr>" for r in rows)
    shown = (f"all {total} rows" if total <= len(rows)
             else f"the first {len(rows)} of {total} rows; every row is in {csv_name}")
    call = f"{service}.{operation}({json.dumps(parameters, default=str, sort_keys=True)})"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p class='meta'>From the AWS API call {html.escape(call)}: {html.escape(shown)}.</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")
