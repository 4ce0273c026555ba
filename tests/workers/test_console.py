"""Console sign-in by federation: moto STS, the loopback console stand-in, and headless Chromium."""

from __future__ import annotations

import json
import tempfile
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.client import BaseClient
from botocore.config import Config
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from workers.console_signin import ConsoleSigninError, console_login_url
from workers.console_standin import ConsoleStandin
from workers.sandbox_browser import CHROMIUM_FLAGS
from workers.simulated_aws import SimulatedAWS, isolated_session

# (deep link under the console base, service title, resource, tab) as the real console writes them
DEEP_LINKS = [
    ("rds/home?region=us-east-1#database:id=prod-db", "RDS", "prod-db", "(default)"),
    (
        "s3/buckets/acme-audit-evidence?region=us-east-1&tab=properties",
        "S3",
        "acme-audit-evidence",
        "properties",
    ),
    ("ec2/home?region=us-east-1#InstanceDetails:instanceId=i-0abc123", "EC2", "i-0abc123", "(default)"),
    ("lambda/home?region=us-east-1#/functions/audit-log-shipper", "Lambda", "audit-log-shipper", "(default)"),
    ("iam/home#/users/details/alice", "IAM", "alice", "(default)"),
    (
        "cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/prod-app-logs",
        "CloudWatch",
        "prod-app-logs",
        "(default)",
    ),
    ("dynamodbv2/home?region=us-east-1#table?name=orders&tab=monitoring", "DynamoDB", "orders", "monitoring"),
]


@pytest.fixture
def issued(aws: SimulatedAWS) -> tuple[BaseClient, list[dict[str, Any]]]:
    """An STS client, and the temporary credentials STS hands out through it (to look for leaks)."""
    sts = aws.client("sts")
    handed_out: list[dict[str, Any]] = []

    def keep(parsed: dict[str, Any], **_: Any) -> None:
        if "Credentials" in parsed:
            handed_out.append(parsed["Credentials"])

    sts.meta.events.register("after-call.sts.*", keep)
    return sts, handed_out


@pytest.fixture(scope="module")
def standin() -> Iterator[ConsoleStandin]:
    with ConsoleStandin() as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with tempfile.TemporaryDirectory(prefix="auditbot-chrome-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def fresh_browser(browser: WebDriver) -> WebDriver:
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    return browser


def _landed_page(driver: WebDriver) -> str:
    """Wait for either a rendered console page or the sign-in page; say which."""
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.ID, "console-ready") or d.find_elements(By.ID, "signin-page")
    )
    return "console" if driver.find_elements(By.ID, "console-ready") else "signin"


def _secrets(credentials: list[dict[str, Any]]) -> list[str]:
    return [c[key] for c in credentials for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")]


@pytest.mark.parametrize(("link", "service", "resource", "tab"), DEEP_LINKS)
def test_login_url_lands_on_the_console_page_of_the_resource(
    issued: tuple[BaseClient, list[dict[str, Any]]],
    standin: ConsoleStandin,
    fresh_browser: WebDriver,
    link: str,
    service: str,
    resource: str,
    tab: str,
) -> None:
    sts, handed_out = issued
    destination = standin.console_url + link
    url = console_login_url(sts, signin_url=standin.signin_url, destination=destination)

    assert url.startswith(standin.signin_url + "?Action=login&Issuer=auditbot&")
    assert not any(secret in url for secret in _secrets(handed_out))
    fresh_browser.get(url)
    assert _landed_page(fresh_browser) == "console"
    assert fresh_browser.current_url == destination
    assert fresh_browser.find_element(By.TAG_NAME, "header").text.startswith("AWS Management Console")
    assert fresh_browser.find_element(By.ID, "console-service").text == service
    assert fresh_browser.find_element(By.ID, "console-resource").text == resource
    assert fresh_browser.find_element(By.ID, "console-tab").text == tab
    assert fresh_browser.find_element(By.ID, "console-location").text == "/console/" + link


def test_federation_token_session_policy_is_read_only_and_credentials_stay_out_of_records(
    issued: tuple[BaseClient, list[dict[str, Any]]],
    standin: ConsoleStandin,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sts, handed_out = issued
    sent: list[dict[str, Any]] = []
    sts.meta.events.register(
        "provide-client-params.sts.GetFederationToken", lambda params, **_: sent.append(dict(params))
    )
    console_login_url(sts, signin_url=standin.signin_url, destination=standin.console_url + "s3/home")

    statement = json.loads(sent[0]["Policy"])["Statement"]
    actions = [action for entry in statement for action in entry["Action"]]
    assert sent[0]["Name"] == "auditbot" and sent[0]["DurationSeconds"] == 900
    assert actions and all(
        action.split(":")[1].startswith(("Describe", "Get", "List", "FilterLogEvents")) for action in actions
    )
    token_request = [r for r in standin.requests if r.query.get("Action") == "getSigninToken"][-1]
    assert token_request.query["Session"] == "<redacted>"
    assert "SessionDuration" not in token_request.query  # only role credentials take a console duration
    output = capfd.readouterr()
    everything = repr(standin.requests) + output.out + output.err
    assert not any(secret in everything for secret in _secrets(handed_out))


def test_role_credentials_sign_in_with_a_session_duration(
    aws: SimulatedAWS,
    issued: tuple[BaseClient, list[dict[str, Any]]],
    standin: ConsoleStandin,
    fresh_browser: WebDriver,
) -> None:
    sts, _ = issued
    role = aws.client("iam").get_role(RoleName="auditbot-readonly")  # from the seeded estate
    destination = standin.console_url + "rds/home?region=us-east-1#database:id=prod-db"
    url = console_login_url(
        sts,
        signin_url=standin.signin_url,
        destination=destination,
        role_arn=role["Role"]["Arn"],
        duration_seconds=1800,
    )

    token_request = [r for r in standin.requests if r.query.get("Action") == "getSigninToken"][-1]
    assert token_request.query["SessionDuration"] == "1800"
    fresh_browser.get(url)
    assert _landed_page(fresh_browser) == "console"


def test_bad_or_reused_token_and_no_cookie_show_the_signin_page(
    issued: tuple[BaseClient, list[dict[str, Any]]],
    standin: ConsoleStandin,
    fresh_browser: WebDriver,
) -> None:
    destination = standin.console_url + "iam/home#/users/details/bob"
    fresh_browser.get(
        standin.signin_url
        + "?"
        + urlencode(
            {"Action": "login", "Issuer": "auditbot", "Destination": destination, "SigninToken": "forged"}
        )
    )
    assert _landed_page(fresh_browser) == "signin"
    assert "invalid or has expired" in fresh_browser.find_element(By.ID, "signin-message").text

    fresh_browser.get(destination)
    assert _landed_page(fresh_browser) == "signin"

    url = console_login_url(issued[0], signin_url=standin.signin_url, destination=destination)
    fresh_browser.get(url)
    assert _landed_page(fresh_browser) == "console"
    fresh_browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    fresh_browser.get(url)  # a sign-in token works once
    assert _landed_page(fresh_browser) == "signin"


def test_login_refuses_a_destination_outside_the_console(standin: ConsoleStandin) -> None:
    token = standin.issue_token()
    for destination in (
        "https://evil.example/console/",
        standin.console_url + "../federation",
        standin.base_url + "elsewhere",
    ):
        query = urlencode({"Action": "login", "Destination": destination, "SigninToken": token})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{standin.signin_url}?{query}", timeout=10)
        assert refused.value.code == 400


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("nowhere", "answered HTTP 404"),  # the endpoint refuses
        ("console/home", "held no SigninToken"),  # an answer that is not a token
    ],
)
def test_failing_get_signin_token_raises_without_credentials(
    issued: tuple[BaseClient, list[dict[str, Any]]],
    standin: ConsoleStandin,
    path: str,
    expected: str,
) -> None:
    sts, handed_out = issued
    with pytest.raises(ConsoleSigninError) as failure:
        console_login_url(sts, signin_url=standin.base_url + path, destination=standin.console_url)

    everything = "".join(traceback.format_exception(failure.value))
    assert "getSigninToken" in str(failure.value) and expected in str(failure.value)
    assert len(handed_out) == 1
    assert not any(secret in everything for secret in _secrets(handed_out))


def test_unreachable_endpoints_name_the_step(
    issued: tuple[BaseClient, list[dict[str, Any]]],
    standin: ConsoleStandin,
) -> None:
    with ConsoleStandin() as gone:
        closed = gone.signin_url
    with pytest.raises(ConsoleSigninError, match="getSigninToken: the federation endpoint was not reached"):
        console_login_url(issued[0], signin_url=closed, destination=standin.console_url)

    no_sts = isolated_session().client(
        "sts",
        region_name="us-east-1",
        endpoint_url=closed.rsplit("/", 1)[0],
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with pytest.raises(ConsoleSigninError, match="at sts:GetFederationToken"):
        console_login_url(no_sts, signin_url=standin.signin_url, destination=standin.console_url)
