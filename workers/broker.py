"""The broker: the trusted worker's side of a tool's AWS calls. It checks, makes and records them.

A tool's process sends `(service, region, operation, params)`; the broker refuses what the policy
forbids, makes the call with boto3 and the worker's credentials, and answers with the response
(HTTP headers stripped, streamed bodies read up to a cap) or the error. Every request it is asked to
make, refused ones included, becomes a `CallRecord`, the audit trail of the evidence.

Policy (read-only unless `allow_writes`, which only a simulated endpoint may have):
- the operation's API name starts with one of `READ_PREFIXES`, or is one of `EXTRA_READS`
  (reports and policy simulations that change nothing). `Select` is not a read prefix: its one use
  that matters, s3:SelectObjectContent, reads object content and streams events;
- and it is not in `data/denied_operations.txt`: reads that return secrets or data content.
  That list applies even when writes are allowed; `s3_get_object` lifts only s3:GetObject;
- the region is any well-formed region name (recorded); the endpoint is always the config's;
- at most `max_calls` operations and `max_pages` pages per broker: one broker serves one job.

With `role_arn` (AUDITBOT_READONLY_ROLE_ARN), `begin_run` assumes that read-only role for each run, with
a session policy of the tool's own actions and the job id in the session name (sandbox_iam); the
tool's calls are made with those credentials, the worker's own (identity, console sign-in) with its own.

Not thread-safe: one tool process at a time talks to a broker.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import cached_property
from importlib import resources
from itertools import count
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.eventstream import EventStream
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError, UnknownServiceError
from botocore.paginate import PageIterator
from botocore.response import StreamingBody

from workers.aws_proxy import REFUSED_CODE
from workers.sandbox_iam import session_name, session_policy, tool_actions

logger = logging.getLogger(__name__)

READ_PREFIXES = ("Describe", "Get", "List", "Lookup", "Filter", "Search", "BatchGet", "Head", "Query", "Scan")
EXTRA_READS = frozenset({
    "iam:GenerateCredentialReport",
    "iam:GenerateServiceLastAccessedDetails",
    "iam:SimulatePrincipalPolicy",
    "iam:SimulateCustomPolicy",
})
OBJECT_READ = "s3:GetObject"
BODY_CAP_BYTES = 16 * 1024 * 1024
ROLE_SESSION_SECONDS = 3600
CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8})
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_SECRET_KEY = re.compile(r"secret|passw|token|credential|private_?key|key_?material|plaintext|ciphertext",
                         re.IGNORECASE)
_KEPT_METADATA = ("RequestId", "HostId", "HTTPStatusCode", "RetryAttempts")


def _now() -> datetime:
    return datetime.now(UTC)


def _json_default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@dataclass(frozen=True)
class BrokerConfig:
    """Where and how the broker calls AWS. `credentials` (boto3 Session keywords) are for a simulated
    endpoint; None means boto3's default chain."""

    region: str
    endpoint_url: str | None = None
    credentials: dict[str, str] | None = field(default=None, repr=False)
    allow_writes: bool = False
    max_calls: int = 2000
    max_pages: int = 50_000
    s3_get_object: bool = False
    role_arn: str | None = None
    job_id: str = ""

    def __post_init__(self) -> None:
        if self.allow_writes and not self.endpoint_url:
            raise ValueError("writes are allowed only against a simulated endpoint (endpoint_url)")


@dataclass
class CallRecord:
    """One operation a tool asked for. `pagination_complete` is None for a call that is not paginated."""

    service: str
    operation: str
    region: str
    params: dict[str, Any]
    started: datetime
    ended: datetime | None = None
    request_ids: list[str] = field(default_factory=list)
    pages: int = 0
    pagination_complete: bool | None = None
    items: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON types (datetimes as ISO 8601), for evidence manifests."""
        return json.loads(json.dumps(asdict(self), default=_json_default))


def redact(value: Any) -> Any:
    """Parameters as recorded: the value of any key that names secret material is replaced."""
    if isinstance(value, dict):
        return {k: "[redacted]" if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass(frozen=True)
class DeniedOperation:
    pattern: str
    reason: str


def load_denied_operations() -> list[DeniedOperation]:
    """`service:Operation  # reason` lines of the packaged list."""
    text = resources.files("workers").joinpath("data", "denied_operations.txt").read_text(encoding="utf-8")
    denied = []
    for line in text.splitlines():
        pattern, _, reason = line.partition("#")
        if pattern.strip():
            denied.append(DeniedOperation(pattern.strip(), reason.strip()))
    return denied


def refused_reason(operation: str, reason: str) -> str:
    return f"{operation} is refused by auditbot: it {reason}."


def not_read_only(operation: str) -> str:
    return (f"{operation} is not a read-only operation; auditbot tools may only read "
            f"(operations named {', '.join(p + '*' for p in READ_PREFIXES)}).")


class ReadOnlyPolicy:
    """Decides whether an operation may run; see the module docstring."""

    def __init__(self, *, allow_writes: bool, s3_get_object: bool) -> None:
        self._allow_writes = allow_writes
        self._denied = [d for d in load_denied_operations()
                        if not (s3_get_object and d.pattern == OBJECT_READ)]

    def refusal(self, service: str, api_name: str) -> str | None:
        """Why `service:api_name` is refused, or None when it may run."""
        operation = f"{service}:{api_name}"
        for denied in self._denied:
            if fnmatchcase(operation, denied.pattern):
                return refused_reason(operation, denied.reason)
        if self._allow_writes or api_name.startswith(READ_PREFIXES) or operation in EXTRA_READS:
            return None
        return not_read_only(operation)


class Refused(Exception):
    """A request the broker will not make; reaches the tool as a ClientError with code AuditbotRefused."""

    def __init__(self, message: str, operation: str = "Unknown") -> None:
        super().__init__(message)
        self.operation = operation


class ProtocolError(ValueError):
    """A message that does not follow the protocol."""


@dataclass
class _Pagination:
    pages: PageIterator
    iterator: Iterator[dict[str, Any]]
    record: CallRecord


def _text(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"message field {key!r} must be a non-empty string")
    return value


def _params(message: dict[str, Any]) -> dict[str, Any]:
    params = message.get("params") or {}
    if not isinstance(params, dict):
        raise ProtocolError("message field 'params' must be an object")
    return params


def _clean(response: dict[str, Any]) -> dict[str, Any]:
    metadata = response.get("ResponseMetadata") or {}
    kept = {k: metadata[k] for k in _KEPT_METADATA if k in metadata}
    return {**response, "ResponseMetadata": kept}


def _note_request_id(record: CallRecord, response: dict[str, Any]) -> None:
    metadata = response.get("ResponseMetadata") or {}
    headers = metadata.get("HTTPHeaders") or {}
    request_id = metadata.get("RequestId") or headers.get("x-amz-request-id") or headers.get("x-amzn-requestid")
    if request_id:
        record.request_ids.append(request_id)


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return REFUSED_CODE if isinstance(exc, Refused) else type(exc).__name__


def _failure(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "failure": kind, "message": message}


def _client_error_reply(exc: ClientError) -> dict[str, Any]:
    error = exc.response.get("Error", {})
    return {
        "ok": False,
        "error": {"Code": error.get("Code", "Unknown"), "Message": error.get("Message", "")},
        "exception": type(exc).__name__ if type(exc) is not ClientError else None,
        "operation": exc.operation_name,
        "metadata": _clean(exc.response).get("ResponseMetadata"),
    }


@contextmanager
def _tracking(record: CallRecord) -> Iterator[None]:
    """Write a failure into the record, then let it propagate to `handle`."""
    try:
        yield
    except Exception as exc:
        record.error = _error_code(exc)
        if isinstance(exc, ClientError):
            _note_request_id(record, exc.response)
        if record.pagination_complete is not None:
            record.pagination_complete = False
        record.ended = _now()
        raise


def _read_streams(response: dict[str, Any], operation: str) -> list[str]:
    """Replace streamed bodies by their bytes (up to the cap); return the keys replaced."""
    streams = []
    for key, value in response.items():
        if isinstance(value, EventStream):
            value.close()
            raise Refused("event-stream responses are not supported for tools", operation)
        if isinstance(value, StreamingBody):
            data = value.read(BODY_CAP_BYTES + 1)
            value.close()
            if len(data) > BODY_CAP_BYTES:
                raise Refused(f"the response body is larger than the {BODY_CAP_BYTES} byte cap", operation)
            response[key] = data
            streams.append(key)
    return streams


class Broker:
    """Makes, checks and records the AWS calls of tool processes; `handle` answers one message."""

    def __init__(self, config: BrokerConfig, console_login: Callable[[str], str] | None = None) -> None:
        self.config = config
        self.policy = ReadOnlyPolicy(allow_writes=config.allow_writes, s3_get_object=config.s3_get_object)
        self.records: list[CallRecord] = []
        self._console_login = console_login
        self._session = boto3.session.Session(region_name=config.region, **(config.credentials or {}))
        self._run_session: boto3.session.Session | None = None
        self.run_policy: str | None = None
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._run_clients: dict[tuple[str, str], BaseClient] = {}
        self._paginations: dict[int, _Pagination] = {}
        self._ids = count(1)
        self._pages_fetched = 0
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
            "call": self._call,
            "can_paginate": self._can_paginate,
            "paginate": self._paginate,
            "page_next": self._page_next,
            "page_close": self._page_close,
            "console_login_url": self._console_login_url,
        }

    def boto_client(self, service: str, region: str | None = None) -> BaseClient:
        """The real client for trusted code (the tool's calls and e.g. the console sign-in)."""
        key = (service, region or self.config.region)
        if key not in self._clients:
            self._clients[key] = self._session.client(
                service, region_name=key[1], endpoint_url=self.config.endpoint_url, config=CLIENT_CONFIG)
        return self._clients[key]

    def begin_run(self, source: str) -> None:
        """Before a run of the tool with this source: with a role configured, assume it for the run."""
        if not self.config.role_arn:
            return
        actions = tool_actions(source, self._operations_of)
        self.run_policy = session_policy(actions) if actions is not None else None
        if actions is None:
            logger.info("the tool chooses its operations at run time; its run has the role without a session policy")
        request = {"RoleArn": self.config.role_arn, "RoleSessionName": session_name(self.config.job_id),
                   "DurationSeconds": ROLE_SESSION_SECONDS}
        if self.run_policy:
            request["Policy"] = self.run_policy
        credentials = self.boto_client("sts").assume_role(**request)["Credentials"]
        self._run_session = boto3.session.Session(
            region_name=self.config.region, aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"])
        self._run_clients.clear()

    def _operations_of(self, service: str) -> tuple[str, list[str]]:
        try:
            model = self._session._session.get_service_model(service)
        except UnknownServiceError:
            return service, []
        return model.signing_name or service, list(model.operation_names)

    def _tool_client(self, service: str, region: str) -> BaseClient:
        """The client a tool's call is made with: the run's assumed role, or the worker's own credentials."""
        if self._run_session is None:
            return self.boto_client(service, region)
        key = (service, region)
        if key not in self._run_clients:
            self._run_clients[key] = self._run_session.client(
                service, region_name=region, endpoint_url=self.config.endpoint_url, config=CLIENT_CONFIG)
        return self._run_clients[key]

    @cached_property
    def _identity(self) -> dict[str, Any]:
        return self.boto_client("sts").get_caller_identity()

    @property
    def account_id(self) -> str:
        return str(self._identity["Account"])

    @property
    def caller_arn(self) -> str:
        return str(self._identity["Arn"])

    @property
    def partition(self) -> str:
        return self.caller_arn.split(":")[1]

    @cached_property
    def _services(self) -> frozenset[str]:
        return frozenset(self._session.get_available_services())

    def handle(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The reply to one message of a tool's process (None for a notice that has no reply)."""
        kind = message.get("type") if isinstance(message, dict) else None
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return _failure("ProtocolError", f"unknown message type {kind!r}")
        try:
            return handler(message)
        except Refused as exc:
            logger.info("refused a tool's request: %s", exc)
            return {"ok": False, "error": {"Code": REFUSED_CODE, "Message": str(exc)}, "operation": exc.operation}
        except ClientError as exc:
            return _client_error_reply(exc)
        except ParamValidationError as exc:
            return _failure("ParamValidationError", str(exc.kwargs.get("report", exc)))
        except (BotoCoreError, ProtocolError) as exc:
            return _failure(type(exc).__name__, str(exc))
        except Exception:
            logger.exception("the broker failed on a %s message", kind)
            return _failure("BrokerError", "the broker failed to handle the request; see the worker's log")

    def close_paginations(self) -> None:
        """Mark paginations the tool never finished as incomplete (at the end of a run)."""
        for pagination in self._paginations.values():
            pagination.record.pagination_complete = False
            pagination.record.ended = _now()
        self._paginations.clear()

    def _client_for(self, message: dict[str, Any]) -> BaseClient:
        service, region = _text(message, "service"), message.get("region") or self.config.region
        if not isinstance(region, str) or not _REGION.fullmatch(region):
            raise Refused(f"{region!r} is not an AWS region name")
        if service not in self._services:
            raise Refused(f"{service!r} is not an AWS service known to auditbot")
        return self._tool_client(service, region)

    def _open(self, message: dict[str, Any]) -> tuple[CallRecord, BaseClient, str]:
        """Record a requested operation and check it; return the record, client and method name."""
        service, method = _text(message, "service"), _text(message, "operation")
        record = CallRecord(service=service, operation=method, region=str(message.get("region") or
                            self.config.region), params=redact(_params(message)), started=_now())
        self.records.append(record)
        with _tracking(record):
            if len(self.records) > self.config.max_calls:
                raise Refused(f"the tool has reached the cap of {self.config.max_calls} AWS calls", method)
            client = self._client_for(message)
            api_name = client.meta.method_to_api_mapping.get(method)
            if api_name is None:
                raise Refused(f"{service} has no operation {method!r}", method)
            record.operation = api_name
            refusal = self.policy.refusal(service, api_name)
            if refusal:
                raise Refused(refusal, api_name)
        return record, client, method

    def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        record, client, method = self._open(message)
        with _tracking(record):
            response = getattr(client, method)(**_params(message))
            streams = _read_streams(response, record.operation)
        _note_request_id(record, response)
        record.pages = 1
        record.items = next((len(v) for v in response.values() if isinstance(v, list)), None)
        record.ended = _now()
        return {"ok": True, "response": _clean(response), "streams": streams}

    def _can_paginate(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "value": self._client_for(message).can_paginate(_text(message, "operation"))}

    def _paginate(self, message: dict[str, Any]) -> dict[str, Any]:
        record, client, method = self._open(message)
        record.pagination_complete, record.items = False, 0
        with _tracking(record):
            if not client.can_paginate(method):
                raise Refused(f"{record.operation} cannot be paginated", record.operation)
            pages = client.get_paginator(method).paginate(**_params(message))
        pagination_id = next(self._ids)
        self._paginations[pagination_id] = _Pagination(pages, iter(pages), record)
        return {"ok": True, "id": pagination_id, "result_keys": [key.expression for key in pages.result_keys]}

    def _page_next(self, message: dict[str, Any]) -> dict[str, Any]:
        pagination_id = message.get("id")
        pagination = self._paginations.pop(pagination_id, None) if isinstance(pagination_id, int) else None
        if pagination is None:
            raise ProtocolError(f"no open pagination {pagination_id!r}")
        record = pagination.record
        with _tracking(record):
            if self._pages_fetched >= self.config.max_pages:
                raise Refused(f"the tool has reached the cap of {self.config.max_pages} pages", record.operation)
            page = next(pagination.iterator, None)
        record.ended = _now()
        if page is None:
            record.pagination_complete = pagination.pages.resume_token is None
            return {"ok": True, "done": True, "resume_token": pagination.pages.resume_token,
                    "non_aggregate": pagination.pages.non_aggregate_part}
        self._paginations[pagination_id] = pagination
        self._pages_fetched += 1
        record.pages += 1
        items = pagination.pages.result_keys[0].search(page) if pagination.pages.result_keys else None
        record.items = (record.items or 0) + (len(items) if isinstance(items, list) else 0)
        _note_request_id(record, page)
        return {"ok": True, "done": False, "page": _clean(page)}

    def _page_close(self, message: dict[str, Any]) -> None:
        pagination_id = message.get("id")
        pagination = self._paginations.pop(pagination_id, None) if isinstance(pagination_id, int) else None
        if pagination is not None:
            pagination.record.ended = _now()

    def _console_login_url(self, message: dict[str, Any]) -> dict[str, Any]:
        destination = _text(message, "destination")
        record = CallRecord(service="signin", operation="ConsoleLogin", region=self.config.region,
                            params={"destination": destination}, started=_now())
        self.records.append(record)
        with _tracking(record):
            if len(self.records) > self.config.max_calls:
                raise Refused(f"the tool has reached the cap of {self.config.max_calls} AWS calls", "ConsoleLogin")
            if self._console_login is None:
                raise Refused("console sign-in is not available to this run", "ConsoleLogin")
            url = self._console_login(destination)
        record.ended = _now()
        return {"ok": True, "url": url}
