"""AWS console sign-in by federation, for console screenshots.

Trusted side only: the worker turns temporary, read-only credentials into a one-time login URL
and hands the tool's browser nothing but that URL. The getSigninToken request carries the
credentials in its query string, so it goes through urllib (which logs nothing) rather than
httpx (which logs every request URL at INFO), and no error text repeats the URL or the answer.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

ISSUER = "auditbot"
_TIMEOUT_SECONDS = 30
_READ_SERVICES = (
    "cloudtrail",
    "cloudwatch",
    "config",
    "dynamodb",
    "ec2",
    "elasticloadbalancing",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "s3",
    "sns",
    "sqs",
    "tag",
)

# Intersected with the caller's own permissions: whatever the caller may do, the console session
# may only look. Compact JSON, because STS limits a session policy to 2,048 characters.
READ_ONLY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Resource": "*",
                "Action": [
                    f"{service}:{verb}*" for service in _READ_SERVICES for verb in ("Describe", "Get", "List")
                ]
                + ["logs:FilterLogEvents"],
            }
        ],
    },
    separators=(",", ":"),
)


class ConsoleSigninError(RuntimeError):
    """A step of the console sign-in failed; the message names the step and holds no secret."""


def console_login_url(
    sts_client: BaseClient,
    *,
    signin_url: str,
    destination: str,
    session_name: str = "auditbot",
    role_arn: str | None = None,
    duration_seconds: int = 900,
    opener: urllib.request.OpenerDirector | None = None,
) -> str:
    """A one-time URL that signs a browser in to the console and lands it on `destination`.

    With `role_arn` the credentials come from AssumeRole, else from GetFederationToken (which
    needs an IAM user's long-term keys). The returned URL holds a sign-in token, not keys, but
    it is still a bearer credential for about 15 minutes: hand it only to the browser.
    """
    credentials = _temporary_credentials(sts_client, session_name, role_arn, duration_seconds)
    token = _signin_token(
        opener or urllib.request.build_opener(),
        signin_url,
        credentials,
        duration_seconds if role_arn else None,
    )
    query = urlencode({"Action": "login", "Issuer": ISSUER, "Destination": destination, "SigninToken": token})
    return f"{signin_url}?{query}"


def _temporary_credentials(
    sts: BaseClient, session_name: str, role_arn: str | None, duration_seconds: int
) -> dict[str, Any]:
    step = "sts:AssumeRole" if role_arn else "sts:GetFederationToken"
    try:
        if role_arn:
            response = sts.assume_role(
                RoleArn=role_arn,
                RoleSessionName=session_name,
                Policy=READ_ONLY_POLICY,
                DurationSeconds=duration_seconds,
            )
        else:
            response = sts.get_federation_token(
                Name=session_name, Policy=READ_ONLY_POLICY, DurationSeconds=duration_seconds
            )
    except (ClientError, BotoCoreError) as exc:  # their texts name the operation and error code, not keys
        raise ConsoleSigninError(f"console sign-in failed at {step}: {exc}") from None
    return response["Credentials"]


def _signin_token(
    opener: urllib.request.OpenerDirector,
    signin_url: str,
    credentials: dict[str, Any],
    session_duration: int | None,
) -> str:
    """Exchange temporary credentials for a sign-in token at the federation endpoint.

    SessionDuration goes only with role credentials: a GetFederationToken session already has
    its own duration, which the console session follows.
    """
    session = json.dumps(
        {
            "sessionId": credentials["AccessKeyId"],
            "sessionKey": credentials["SecretAccessKey"],
            "sessionToken": credentials["SessionToken"],
        }
    )
    params = {"Action": "getSigninToken", "Session": session}
    if session_duration is not None:
        params["SessionDuration"] = str(session_duration)
    step = "console sign-in failed at getSigninToken"
    # `from None` throughout: the chained urllib errors carry the request URL, credentials included.
    try:
        with opener.open(f"{signin_url}?{urlencode(params)}", timeout=_TIMEOUT_SECONDS) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise ConsoleSigninError(f"{step}: the federation endpoint answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise ConsoleSigninError(f"{step}: the federation endpoint was not reached ({reason})") from None
    try:
        token = json.loads(body)["SigninToken"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise ConsoleSigninError(f"{step}: the answer held no SigninToken")
    return token
