"""The tool process's AWS clients: they look like boto3 clients, but the broker makes every call.

The tool's process holds no credentials and imports neither boto3 nor botocore's client machinery
(only `botocore.exceptions`, so tool code keeps catching `ClientError`). Each operation is sent to
the broker in the trusted worker as `(service, region, operation, params)`; its reply comes back as
the parsed response or as the exception botocore would have raised.

Exceptions a tool can see:

    ClientError                      an AWS error, or a refusal
    ├── exceptions.<Name>            one class per error name, shared by every client of a service
    └── BrokerRefused                the broker's policy refused the call (code "AuditbotRefused")
    ParamValidationError             the parameters do not match the operation's model
    AwsCallError (BotoCoreError)     anything else botocore raised in the broker (no endpoint ...)
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from functools import cache
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, OperationNotPageableError, ParamValidationError

from workers.wire import Channel

REFUSED_CODE = "AuditbotRefused"


class BrokerRefused(ClientError):
    """The broker refused the call under its read-only policy; the message says why."""


class AwsCallError(BotoCoreError):
    """A botocore failure in the broker that has no exception of its own on this side."""

    fmt = "{error_type}: {message}"


class BrokerLink:
    """The tool process's end of the broker connection.

    A request and its reply are one exchange under a lock, so tools may call AWS from threads.
    The lock is re-entrant because a paginator closed by the garbage collector in the middle of
    an exchange sends its (unanswered) close notice from the same thread.
    """

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._lock = threading.RLock()

    def request(self, message: dict[str, Any], exceptions: _Exceptions | None = None) -> dict[str, Any]:
        """Send a message and return the broker's successful reply, raising what its failure means.

        `exceptions` is the namespace whose classes an AWS error is raised as.
        """
        with self._lock:
            self._channel.send(message)
            reply = self._channel.receive()
        if reply is None:
            raise ConnectionError("the broker closed the connection")
        if not reply.get("ok"):
            raise _error_from(reply, exceptions or exceptions_for(""))
        return reply

    def notify(self, message: dict[str, Any]) -> None:
        """Send a message the broker does not answer."""
        with self._lock:
            self._channel.send(message)


class _Exceptions:
    """`client.exceptions`: a `ClientError` subclass for any name, the same class on every access."""

    ClientError = ClientError

    def __init__(self) -> None:
        self._classes: dict[str, type[ClientError]] = {}

    def __getattr__(self, name: str) -> type[ClientError]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._classes:
            self._classes[name] = type(name, (ClientError,), {"__module__": __name__})
        return self._classes[name]

    def from_code(self, code: str) -> type[ClientError]:
        return getattr(self, code)


@cache
def exceptions_for(service: str) -> _Exceptions:
    """Shared per service, so a class taken from one client catches errors raised through another."""
    return _Exceptions()


def _error_from(reply: dict[str, Any], exceptions: _Exceptions) -> Exception:
    error = reply.get("error")
    if error is None:
        if reply.get("failure") == "ParamValidationError":
            return ParamValidationError(report=reply.get("message", ""))
        return AwsCallError(error_type=reply.get("failure", "Error"), message=reply.get("message", ""))
    response = {"Error": error, "ResponseMetadata": reply.get("metadata") or {}}
    operation = reply.get("operation", "Unknown")
    code = str(error.get("Code", ""))
    if code == REFUSED_CODE:
        return BrokerRefused(response, operation)
    name = reply.get("exception") or (code if code.isidentifier() else None)
    if name:
        return getattr(exceptions, name)(response, operation)
    return ClientError(response, operation)


class StreamingBody(io.BytesIO):
    """A response body the broker has already read (up to its cap), with botocore's reading methods."""

    def read(self, amt: int | None = None) -> bytes:
        return super().read(amt)

    def iter_chunks(self, chunk_size: int = 1024) -> Iterator[bytes]:
        while chunk := self.read(chunk_size):
            yield chunk

    def iter_lines(self, chunk_size: int = 1024, keepends: bool = False) -> Iterator[bytes]:
        for line in self:
            yield line if keepends else line.rstrip(b"\r\n")


def _get_path(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


class PageIterator:
    """Pages fetched from the broker one at a time, so a huge export never sits in memory.

    Iterating again starts a new pagination. After a full pass, `resume_token` and
    `non_aggregate_part` hold what botocore's page iterator would.
    """

    def __init__(self, client: ClientProxy, operation: str, params: dict[str, Any]) -> None:
        self._client = client
        self._operation = operation
        self._params = params
        self.result_keys: list[str] = []
        self.resume_token: str | None = None
        self.non_aggregate_part: dict[str, Any] = {}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        opened = self._client._request("paginate", self._operation, self._params)
        self.result_keys = opened["result_keys"]
        link, pagination = self._client._link, opened["id"]
        finished = False
        try:
            while True:
                reply = link.request({"type": "page_next", "id": pagination}, self._client.exceptions)
                if reply.get("done"):
                    finished = True
                    self.resume_token = reply.get("resume_token")
                    self.non_aggregate_part = reply.get("non_aggregate") or {}
                    return
                yield reply["page"]
        finally:
            if not finished:
                link.notify({"type": "page_close", "id": pagination})

    def build_full_result(self) -> dict[str, Any]:
        """All pages merged the way botocore merges them: lists joined, counts and strings added."""
        full: dict[str, Any] = {}
        for page in self:
            for key in self.result_keys:
                value = _get_path(page, key)
                existing = _get_path(full, key)
                if value is None:
                    continue
                if existing is None:
                    _set_path(full, key, value)
                elif isinstance(value, list):
                    existing.extend(value)
                elif isinstance(value, int | float | str):
                    _set_path(full, key, existing + value)
        _merge(full, self.non_aggregate_part)
        if self.resume_token is not None:
            full["NextToken"] = self.resume_token
        return full

    def search(self, expression: str) -> Iterator[Any]:
        """Each match of a JMESPath expression over the pages, as botocore's `search` yields them."""
        import jmespath

        compiled = jmespath.compile(expression)
        for page in self:
            found = compiled.search(page)
            if isinstance(found, list):
                yield from found
            else:
                yield found


class Paginator:
    def __init__(self, client: ClientProxy, operation: str) -> None:
        self._client = client
        self._operation = operation

    def paginate(self, **params: Any) -> PageIterator:
        return PageIterator(self._client, self._operation, params)


class ClientProxy:
    """Behaves as `boto3.client(service)` for tool code; every operation is a request to the broker."""

    def __init__(self, link: BrokerLink, service: str, region: str) -> None:
        self._link = link
        self._service = service
        self._pageable: dict[str, bool] = {}
        self.meta = SimpleNamespace(region_name=region, service_name=service)
        self.exceptions = exceptions_for(service)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def operation(*args: Any, **params: Any) -> dict[str, Any]:
            if args:
                raise TypeError(f"{name}() only accepts keyword arguments.")
            return self._call(name, params)

        operation.__name__ = name
        return operation

    def _request(self, kind: str, operation: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = {"type": kind, "service": self._service, "region": self.meta.region_name,
                   "operation": operation}
        if params is not None:
            message["params"] = params
        return self._link.request(message, self.exceptions)

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        reply = self._request("call", operation, params)
        response = reply["response"]
        for key in reply.get("streams", []):
            response[key] = StreamingBody(response[key])
        return response

    def can_paginate(self, operation_name: str) -> bool:
        if operation_name not in self._pageable:
            self._pageable[operation_name] = bool(self._request("can_paginate", operation_name)["value"])
        return self._pageable[operation_name]

    def get_paginator(self, operation_name: str) -> Paginator:
        if not self.can_paginate(operation_name):
            raise OperationNotPageableError(operation_name=operation_name)
        return Paginator(self, operation_name)
