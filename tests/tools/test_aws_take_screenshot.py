"""aws_take_screenshot through the real sandbox, broker, federation sign-in and the console stand-in."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from PIL import Image

from tools.aws_take_screenshot import console_link

BANNER_YELLOW = (255, 215, 0)


def test_rds_screenshot_is_signed_in_bannered_and_saved(run_builtin, evidence_file, console):
    run = run_builtin("aws_take_screenshot", service="rds", resource="prod-db", tab="configuration")

    url = console.console_url + "rds/home?region=us-east-1#database:id=prod-db;is-cluster=false"
    url += ";tab=configuration"
    assert run.value["url"] == url
    assert run.value["banner"].startswith("AWS account 123456789012 | region us-east-1 | 20")
    assert run.value["banner"].endswith(f" | {url}")
    assert run.value["page_title"] == "RDS | AWS Management Console"
    path = evidence_file(run)
    assert path.name == "screenshot_rds_instance_prod-db_configuration.png"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width >= 1000
        assert image.convert("RGB").getpixel((image.width // 2, 5)) == BANNER_YELLOW
    page = [r for r in console.requests if r.path == "/console/rds/home"][-1]
    assert page.signed_in and page.query == {"region": "us-east-1"}
    assert [c.operation for c in run.calls] == ["ConsoleLogin"]


def test_the_sign_in_token_stays_out_of_results_and_progress(run_builtin, console):
    run = run_builtin("aws_take_screenshot", service="s3", resource="acme-audit-evidence", tab="properties")

    assert run.ok, run.error
    bucket_page = "s3/buckets/acme-audit-evidence?region=us-east-1&tab=properties"
    assert run.value["url"] == console.console_url + bucket_page
    shown = json.dumps(run.value) + "\n".join(run.progress)
    assert "SigninToken" not in shown and "federation" not in shown


def test_dynamodb_is_refused_naming_the_supported_services(run_builtin, console):
    before = len(console.requests)

    run = run_builtin("aws_take_screenshot", service="dynamodb", resource="orders")

    assert not run.ok and run.error_type == "ValueError"
    assert ("Console screenshots are not supported for 'dynamodb' yet. "
            "Supported services: cloudwatch, ec2, iam, lambda, rds, s3.") in run.error
    assert run.files == [] and run.calls == [] and len(console.requests) == before


def test_a_failed_sign_in_gives_no_screenshot(run_builtin, make_broker, console):
    def expired_link(destination: str) -> str:
        query = {"Action": "login", "SigninToken": "expired", "Destination": destination}
        return f"{console.signin_url}?{urlencode(query)}"

    run = run_builtin("aws_take_screenshot", broker=make_broker(console_login=expired_link),
                      service="iam", resource="alice", resource_type="user")

    assert not run.ok and run.error_type == "RuntimeError"
    assert "the sign-in did not reach the console (the browser is on 127.0.0.1/federation)" in run.error
    assert run.files == []


@pytest.mark.parametrize(("args", "path"), [
    (("cloudwatch", "/aws/lambda/f"), "cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/"
                                      "$252Faws$252Flambda$252Ff"),
    (("cloudwatch", "cpu-high", "alarm"), "cloudwatch/home?region=eu-west-1#alarmsV2:alarm/cpu-high"),
    (("iam", "alice", "user", "permissions"), "iam/home#/users/details/alice?section=permissions"),
    (("rds", "snap-old", "snapshot", "ignored"), "rds/home?region=eu-west-1#db-snapshot:id=snap-old"),
    (("lambda", "audit-log-shipper", None, "monitoring"),
     "lambda/home?region=eu-west-1#/functions/audit-log-shipper?tab=monitoring"),
    (("ec2", "sg-1", "security_group"), "ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-1"),
])
def test_deep_links(args, path):
    service, resource, resource_type, tab = (*args, None, None)[:4]
    link = console_link("https://console.aws.amazon.com/", service, resource, region="eu-west-1",
                        resource_type=resource_type, tab=tab)
    assert link == "https://console.aws.amazon.com/" + path


def test_an_unknown_resource_type_names_the_known_ones():
    known = "choose from instance, cluster, snapshot"
    with pytest.raises(ValueError, match=f"Unknown resource_type 'table' for rds; {known}"):
        console_link("https://console.aws.amazon.com/", "rds", "x", region="us-east-1", resource_type="table")
