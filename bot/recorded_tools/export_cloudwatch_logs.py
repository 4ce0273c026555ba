"""Export the events of a CloudWatch Logs log group over the last N days to JSON, CSV or PDF."""

import csv
from datetime import UTC, datetime, timedelta

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

PARAMETERS = {
    "type": "object",
    "properties": {
        "log_group": {"type": "string", "description": "log group name"},
        "days": {"type": "integer", "default": 7, "minimum": 1, "maximum": 3650},
        "format": {"type": "string", "enum": ["json", "csv", "pdf"], "default": "json"},
    },
    "required": ["log_group"],
}

PDF_ROWS = 2000


def run(ctx, log_group, days=7, format="json"):
    end = datetime.now(UTC)
    start = end - timedelta(days=days)
    window = {"start": start.isoformat(timespec="seconds"), "end": end.isoformat(timespec="seconds")}
    ctx.progress(f"Reading {log_group} from {window['start']} to {window['end']} ...")
    events = []
    pages = ctx.client("logs").get_paginator("filter_log_events").paginate(
        logGroupName=log_group, startTime=int(start.timestamp() * 1000), endTime=int(end.timestamp() * 1000))
    for number, page in enumerate(pages, start=1):
        for event in page.get("events", []):
            events.append({
                "timestamp": datetime.fromtimestamp(event["timestamp"] / 1000, UTC).isoformat(),
                "log_stream": event.get("logStreamName", ""),
                "event_id": event.get("eventId", ""),
                "message": event.get("message", ""),
            })
        ctx.progress(f"page {number}: {len(events)} events so far")
    stem = f"cloudwatch_logs_{log_group.strip('/').replace('/', '_')}_{days}d"
    if format == "csv":
        name = f"{stem}.csv"
        with ctx.output_path(name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["timestamp", "log_stream", "event_id", "message"])
            writer.writeheader()
            writer.writerows(events)
    elif format == "pdf":
        name = f"{stem}.pdf"
        write_pdf(ctx.output_path(name), log_group, window, events)
    else:
        name = f"{stem}.json"
        ctx.save_json(name, {"log_group": log_group, "window": window, "count": len(events), "events": events})
    return {"summary": f"Exported {len(events)} events from {log_group} ({window['start']} to {window['end']}) "
                       f"to {name}", "events": len(events), "window": window, "file": name}


def write_pdf(path, log_group, window, events):
    styles = getSampleStyleSheet()
    story = [Paragraph(f"CloudWatch Logs export: {log_group}", styles["Title"]),
             Paragraph(f"Window (UTC): {window['start']} to {window['end']}; {len(events)} events", styles["Normal"])]
    if len(events) > PDF_ROWS:
        story.append(Paragraph(f"This PDF is a summary: it shows the first {PDF_ROWS} of {len(events)} events. "
                               "Export with format csv or json for every event.", styles["Normal"]))
    story.append(Spacer(1, 12))
    cell = styles["BodyText"]
    rows = [["Time (UTC)", "Stream", "Message"]] + [
        [e["timestamp"][:19], Paragraph(e["log_stream"][:40], cell), Paragraph(e["message"][:300], cell)]
        for e in events[:PDF_ROWS]]
    table = Table(rows, colWidths=[120, 150, 500], repeatRows=1)
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTSIZE", (0, 0), (-1, -1), 7)]))
    story.append(table)
    SimpleDocTemplate(str(path), pagesize=landscape(A4)).build(story)


def selftest(ctx):
    logs = ctx.client("logs")
    logs.create_log_group(logGroupName="selftest-app")
    logs.create_log_stream(logGroupName="selftest-app", logStreamName="web-1")
    now = int(datetime.now(UTC).timestamp() * 1000)
    for batch in range(2):
        logs.put_log_events(logGroupName="selftest-app", logStreamName="web-1", logEvents=[
            {"timestamp": now - 60_000 + batch * 1000 + i // 100, "message": f"GET /health 200 batch={batch} n={i}"}
            for i in range(6000)])
    result = run(ctx, log_group="selftest-app", days=1)
    assert result["events"] == 12000, result
    assert run(ctx, log_group="selftest-app", days=1, format="pdf")["events"] == 12000
