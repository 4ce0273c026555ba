"""Chart a CloudWatch metric as a PNG with GetMetricWidgetImage: the graph a console metrics tab shows.

Use it for monitoring evidence without console sign-in: e.g. namespace "AWS/RDS", metric
"CPUUtilization", dimensions {"DBInstanceIdentifier": "prod-db"}, the last 24 hours. The image gets the
evidence banner (account, region, UTC time, the metric) burned into its top.
"""

import json
import re

PARAMETERS = {
    "type": "object",
    "properties": {
        "namespace": {"type": "string", "description": "metric namespace, e.g. AWS/EC2, AWS/RDS, AWS/Lambda"},
        "metric_name": {"type": "string", "description": "e.g. CPUUtilization, Invocations, FreeStorageSpace"},
        "dimensions": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "dimension name -> value, e.g. {\"InstanceId\": \"i-0abc\"}"},
        "stat": {"type": "string", "default": "Average",
                 "description": "Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p99"},
        "period": {"type": "integer", "default": 300, "minimum": 1, "description": "seconds per data point"},
        "hours": {"type": "integer", "default": 24, "minimum": 1, "maximum": 10944,
                  "description": "how far back the chart goes, ending now"},
        "title": {"type": "string", "description": "chart title; default namespace metric"},
    },
    "required": ["namespace", "metric_name"],
}

WIDTH, HEIGHT = 1200, 500


def run(ctx, namespace, metric_name, dimensions=None, stat="Average", period=300, hours=24, title=None):
    dimensions = dimensions or {}
    metric = [namespace, metric_name]
    for name, value in dimensions.items():
        metric += [name, str(value)]
    title = title or f"{namespace} {metric_name}"
    widget = {"metrics": [[*metric, {"stat": stat, "period": period}]], "title": title, "view": "timeSeries",
              "start": f"-PT{hours}H", "end": "P0D", "timezone": "+0000", "width": WIDTH, "height": HEIGHT}
    ctx.progress(f"Charting {title} over the last {hours} h")
    reply = ctx.client("cloudwatch").get_metric_widget_image(MetricWidget=json.dumps(widget), OutputFormat="png")
    where = ", ".join(f"{k}={v}" for k, v in dimensions.items())
    source = f"CloudWatch GetMetricWidgetImage {namespace} {metric_name}" + (f" ({where})" if where else "") \
        + f", {stat} per {period} s, last {hours} h"
    name = "chart_" + (re.sub(r"[^A-Za-z0-9-]+", "_", f"{namespace}_{metric_name}_{where}").strip("_")[:120]) + ".png"
    ctx.save_image(name, reply["MetricWidgetImage"], source=source)
    return {"summary": f"Chart of {title} over the last {hours} h saved to {name}", "file": name,
            "widget": widget, "source": source}
