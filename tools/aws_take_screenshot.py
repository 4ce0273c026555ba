"""Take a screenshot of an AWS console page (RDS, S3, EC2, Lambda, IAM, CloudWatch) for one resource.

The page is opened by a direct deep link after a federated sign-in; `ctx.capture` draws a banner with the
account, region, UTC time and URL across the top and checks it in the page and in the pixels, so the image
stands on its own as evidence.
"""

import re
import time
from typing import NamedTuple
from urllib.parse import quote, urlparse

from selenium.webdriver.support.ui import WebDriverWait


class Link(NamedTuple):
    """A console deep link: `path` takes {region} and {resource}; `tab`, appended when asked for, {tab}."""

    path: str
    tab: str = ""
    console_encoding: bool = False  # the CloudWatch console escapes names twice, with "$" for "%"


# service -> resource type -> link; the first resource type of a service is its default.
CONSOLE_LINKS: dict[str, dict[str, Link]] = {
    "rds": {
        "instance": Link("rds/home?region={region}#database:id={resource};is-cluster=false", ";tab={tab}"),
        "cluster": Link("rds/home?region={region}#database:id={resource};is-cluster=true", ";tab={tab}"),
        "snapshot": Link("rds/home?region={region}#db-snapshot:id={resource}"),
    },
    "s3": {"bucket": Link("s3/buckets/{resource}?region={region}", "&tab={tab}")},
    "ec2": {
        "instance": Link("ec2/home?region={region}#InstanceDetails:instanceId={resource}"),
        "security_group": Link("ec2/home?region={region}#SecurityGroup:groupId={resource}"),
        "volume": Link("ec2/home?region={region}#VolumeDetails:volumeId={resource}"),
    },
    "lambda": {"function": Link("lambda/home?region={region}#/functions/{resource}", "?tab={tab}")},
    "iam": {
        "user": Link("iam/home#/users/details/{resource}", "?section={tab}"),
        "role": Link("iam/home#/roles/details/{resource}", "?section={tab}"),
        "policy": Link("iam/home#/policies/details/{resource}", "?section={tab}"),
    },
    "cloudwatch": {
        "log_group": Link("cloudwatch/home?region={region}#logsV2:log-groups/log-group/{resource}",
                          console_encoding=True),
        "alarm": Link("cloudwatch/home?region={region}#alarmsV2:alarm/{resource}"),
    },
}

# No enum on `service`: an unsupported one reaches run and is refused with the supported list, and adding
# a service is one CONSOLE_LINKS entry.
PARAMETERS = {
    "type": "object",
    "properties": {
        "service": {"type": "string",
                    "description": "console to open: rds, s3, ec2, lambda, iam or cloudwatch"},
        "resource": {"type": "string", "description": "the resource's id or name (DB identifier, bucket...)"},
        "tab": {"type": "string", "description": "optional tab, e.g. configuration, monitoring, properties"},
        "resource_type": {
            "type": "string",
            "description": "optional, default the first: rds instance|cluster|snapshot; s3 bucket; "
                           "ec2 instance|security_group|volume; lambda function; iam user|role|policy; "
                           "cloudwatch log_group|alarm",
        },
    },
    "required": ["service", "resource"],
}

WINDOW_WIDTH = 1440
MIN_HEIGHT = 900
LOAD_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 1.5  # the console keeps rendering after readyState is "complete"


def run(ctx, service, resource, tab=None, resource_type=None):
    url = console_link(ctx.console_url, service, resource, region=ctx.region, resource_type=resource_type,
                       tab=tab)
    name = _file_name(service, _link(service, resource_type)[0], resource, tab)
    ctx.progress(f"Opening {url}")
    with ctx.browser() as driver:
        driver.set_window_size(WINDOW_WIDTH, MIN_HEIGHT)
        driver.get(ctx.console_login_url(url))
        WebDriverWait(driver, LOAD_TIMEOUT_SECONDS).until(
            lambda d: d.execute_script("return document.readyState") == "complete")
        time.sleep(SETTLE_SECONDS)
        _check_landed(driver.current_url, ctx.console_url)
        title = driver.title
        shot = ctx.capture(driver, name, source=url)
    return {"summary": f"Screenshot of {service} {resource} saved to {name}", "url": url, "file": name,
            "banner": shot["banner"], "page_title": title, "captured_at": shot["captured_at"]}


def console_link(base: str, service: str, resource: str, *, region: str, resource_type: str | None = None,
                 tab: str | None = None) -> str:
    """The console deep link for one resource, on the configured console base URL."""
    link = _link(service, resource_type)[1]
    encoded = quote(resource, safe="")
    if link.console_encoding:
        encoded = quote(encoded, safe="").replace("%", "$")
    path = link.path.format(region=quote(region, safe=""), resource=encoded)
    if tab and link.tab:
        path += link.tab.format(tab=quote(tab, safe=""))
    return base.rstrip("/") + "/" + path


def _link(service: str, resource_type: str | None) -> tuple[str, Link]:
    """The resource type (the service's first when none is given) and its link."""
    if service not in CONSOLE_LINKS:
        raise ValueError(f"Console screenshots are not supported for '{service}' yet. "
                         f"Supported services: {', '.join(sorted(CONSOLE_LINKS))}.")
    links = CONSOLE_LINKS[service]
    kind = resource_type or next(iter(links))
    if kind not in links:
        raise ValueError(f"Unknown resource_type '{kind}' for {service}; choose from {', '.join(links)}.")
    return kind, links[kind]


def _check_landed(current_url: str, console_url: str) -> None:
    """A failed sign-in leaves the browser on a sign-in page; a screenshot of that is not evidence.

    The console may answer on a regional host (us-east-1.console.aws.amazon.com), hence the suffix match.
    """
    here, console = urlparse(current_url), urlparse(console_url)
    host, console_host = here.hostname or "", console.hostname or ""
    on_console_host = host == console_host or host.endswith("." + console_host)
    if not (on_console_host and here.path.startswith(console.path or "/")):
        where = (host + here.path if on_console_host else host) or "an empty page"
        raise RuntimeError(f"the sign-in did not reach the console (the browser is on {where})")


def _file_name(service: str, resource_type: str, resource: str, tab: str | None) -> str:
    stem = "_".join(p for p in (service, resource_type, resource, tab) if p)
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", stem).strip("._")[:150]
    return f"screenshot_{safe}.png"
