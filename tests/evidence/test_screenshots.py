"""Screenshots that hold up: the banner checked in the DOM and the pixels, and recorded in the manifest."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from tests.evidence.cloudwatch_standin import CloudWatchWidgetStandin
from tests.evidence.conftest import make_collector, open_evidence
from workers.evidence_notes import append_note
from workers.evidence_screenshots import BANNER_COLOUR, BannerMissing, burn_banner, check_dom, has_banner

BANNER_START = "AWS account 123456789012 | region us-east-1 | "


def top_pixels(path) -> set[tuple[int, int, int]]:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        return {rgb.getpixel((x, 3)) for x in range(0, rgb.width, 37)}


def blank_png(width: int = 640, height: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (250, 250, 250)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_evidence_page_is_captured_with_its_banner_checked_and_recorded(collect):
    outcome = collect("render_evidence_page", service="iam", operation="list_users",
                      columns=["UserName", "Arn", "CreateDate"], title="IAM users")
    assert not outcome.is_error, outcome.text

    entries = {f["name"]: f for f in collect.manifest["files"]}
    assert set(entries) == {"iam_list_users.png", "iam_list_users.csv", "iam_list_users.json"}
    shot = entries["iam_list_users.png"]["screenshot"]
    assert shot["banner"].startswith(BANNER_START)
    assert shot["banner"].endswith(" | AWS API iam.list_users (evidence page)")
    assert shot["source"] == "AWS API iam.list_users (evidence page)"
    assert shot["banner_by"] == "tool (dom+pixels), pixels checked by the worker"
    assert datetime.fromisoformat(shot["captured_at"]) <= datetime.now(UTC)
    path = collect.evidence.directory / "iam_list_users.png"
    assert top_pixels(path) == {BANNER_COLOUR}, "a yellow banner runs across the whole top"
    with Image.open(path) as image:
        assert image.width == 1440 and image.height >= 200
    assert (collect.evidence.directory / "iam_list_users.csv").read_text().splitlines()[0] == "UserName,Arn,CreateDate"


def test_a_cloudwatch_chart_gets_the_banner_burned_in(settings, conn, aws):
    with CloudWatchWidgetStandin(aws.endpoint_url) as cloudwatch:
        collect = make_collector(settings.model_copy(update={"aws_endpoint_url": cloudwatch.endpoint_url}), conn)
        outcome = collect("cloudwatch_metric_chart", namespace="AWS/RDS", metric_name="CPUUtilization",
                          dimensions={"DBInstanceIdentifier": "prod-db"})

    assert not outcome.is_error, outcome.text
    (widget,) = cloudwatch.widgets
    assert widget["metrics"] == [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "prod-db",
                                  {"stat": "Average", "period": 300}]]
    assert widget["start"] == "-PT24H" and widget["end"] == "P0D"
    name = "chart_AWS_RDS_CPUUtilization_DBInstanceIdentifier_prod-db.png"
    (entry,) = collect.manifest["files"]
    assert entry["name"] == name
    source = "CloudWatch GetMetricWidgetImage AWS/RDS CPUUtilization (DBInstanceIdentifier=prod-db), Average per " \
             "300 s, last 24 h"
    assert entry["screenshot"]["source"] == source and entry["screenshot"]["banner"].startswith(BANNER_START)
    assert entry["screenshot"]["banner_by"].startswith("tool (burned in)")
    path = collect.evidence.directory / name
    assert top_pixels(path) == {BANNER_COLOUR}
    with Image.open(path) as image:
        assert image.width == 1200 and image.height > 500, "the banner sits above the whole chart"
    run = collect.manifest["runs"][0]
    assert run["api_calls"][-1]["operation"] == "GetMetricWidgetImage"
    assert run["window"]["kind"] == "range" and run["defaults"]["hours"] == 24


def test_the_worker_burns_a_banner_into_a_png_that_came_without_one(settings, tmp_path):
    evidence = open_evidence(settings)
    evidence.manifest["identity"] = {"account": "123456789012", "region": "us-east-1"}
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "plain.png").write_bytes(blank_png())
    (scratch / "claims.png").write_bytes(blank_png())
    append_note(scratch, "screenshot", "claims.png", banner="AWS account 1 | ...", source="made up")
    record = {"tool": "drawer", "version": 3, "started": "2025-05-01T10:00:00+00:00",
              "ended": "2025-05-01T10:00:01+00:00"}

    evidence.add_run(record, sorted(scratch.iterdir()))

    for entry in evidence.manifest["files"]:
        path = evidence.directory / entry["name"]
        assert has_banner(path.read_bytes()), entry["name"]
        assert entry["screenshot"]["banner_by"] == "worker"
        assert entry["screenshot"]["banner"].startswith(BANNER_START)
        assert entry["screenshot"]["source"] == f"{entry['name']} from drawer v3; the tool recorded no banner"
        assert entry["size"] == path.stat().st_size, "the file is hashed after its banner is burned in"
    assert [f["name"] for f in evidence.manifest["files"]] == ["claims.png", "plain.png"]


def test_a_long_banner_wraps_instead_of_running_off_the_image():
    text = BANNER_START + "https://console.aws.amazon.com/" + "x" * 300
    with Image.open(io.BytesIO(burn_banner(blank_png(400, 100), text))) as image:
        assert image.width == 400 and image.height > 100 + 3 * 18


@pytest.mark.parametrize(("change", "problem"), [
    ({"text": "other"}, "its text differs"),
    ({"top": 40}, "it is not at the top of the page"),
    ({"width": 300}, "it is not full width"),
    ({"shown": False}, "it is hidden"),
    ({"on_top": False}, "something covers it"),
])
def test_the_dom_check_names_what_is_wrong_with_the_banner(change, problem):
    seen = {"text": "banner", "top": 0, "left": 0, "width": 1440, "height": 36, "viewport": 1440, "shown": True,
            "on_top": True}
    check_dom(seen, "banner")
    with pytest.raises(BannerMissing, match=problem):
        check_dom({**seen, **change}, "banner")
    with pytest.raises(BannerMissing, match="no evidence banner element"):
        check_dom(None, "banner")
