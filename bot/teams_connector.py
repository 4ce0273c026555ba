"""Bot Connector calls (post, reply, update in place) through the Teams SDK's conversation client.

Two middlewares sit on the SDK's HTTP client, in this order:
- `AllowedServiceUrls` refuses a URL whose host is not in `TEAMS_SERVICE_URL_HOSTS` (or that is not
  https, loopback aside) before anything is sent, the bot's token included;
- `Retries` waits out a 429 for its `Retry-After` (capped) and retries 5xx answers and connection
  errors briefly. What still fails is raised as `ConnectorError`; workers then hand the activity to
  the outbox (`bot.teams_outbox`) instead of losing it.

The web process keeps one `Connector` on its event loop; RQ workers are synchronous and use
`BlockingConnector`, which runs each call on a fresh event loop with its own HTTP client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from microsoft_teams.api import ActivityParams, TypingActivityInput
from microsoft_teams.api.clients.conversation import ConversationActivityClient
from microsoft_teams.common import Client, ClientOptions
from microsoft_teams.common.http.client import MiddlewareContext, MiddlewareNext

from bot.teams_tokens import BotTokens, TokenUnavailable

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT = 15.0
RATE_LIMIT_RETRIES = 5
MAX_RETRY_AFTER = 60.0
BACKOFF = (0.25, 1.0)

T = TypeVar("T")


class ConnectorError(Exception):
    """The Connector refused a call, or stayed unreachable after the retries."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class ServiceUrlRefused(ConnectorError):
    """A serviceUrl outside the allowlist: nothing was sent."""

    def __init__(self, url: str) -> None:
        super().__init__(f"serviceUrl host {urlsplit(url).hostname!r} is not in TEAMS_SERVICE_URL_HOSTS",
                         retryable=False)


@dataclass(frozen=True)
class Address:
    """Where an activity goes: the Connector, the conversation (a channel thread's id names its root)."""

    service_url: str
    conversation_id: str
    reply_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def service_url_allowed(url: str, hosts: list[str]) -> bool:
    parts = urlsplit(url)
    return parts.hostname in hosts and (parts.scheme == "https" or parts.hostname in LOOPBACK)


def retry_after(response: httpx.Response) -> float:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date), capped."""
    raw = response.headers.get("retry-after", "1")
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class AllowedServiceUrls:
    """Middleware: no request leaves for a host outside the allowlist."""

    def __init__(self, hosts: list[str]) -> None:
        self.hosts = hosts

    def send(self, context: MiddlewareContext, next: MiddlewareNext) -> Awaitable[httpx.Response]:
        if not service_url_allowed(context.url, self.hosts):
            raise ServiceUrlRefused(context.url)
        return next()


class Retries:
    """Middleware: 429 waits for `Retry-After`; 5xx and connection errors back off; the rest is raised."""

    async def send(self, context: MiddlewareContext, next: MiddlewareNext) -> httpx.Response:
        limited = failed = 0
        while True:
            try:
                return await next()
            except httpx.HTTPStatusError as exc:
                status = exc.response.status_code
                if status == 429 and limited < RATE_LIMIT_RETRIES:
                    limited += 1
                    await asyncio.sleep(retry_after(exc.response))
                    continue
                if status >= 500 and failed < len(BACKOFF):
                    await asyncio.sleep(BACKOFF[failed])
                    failed += 1
                    continue
                raise ConnectorError(f"Connector answered {status} to {context.method}",
                                     retryable=status == 429 or status >= 500) from None
            except httpx.TransportError as exc:
                if failed < len(BACKOFF):
                    await asyncio.sleep(BACKOFF[failed])
                    failed += 1
                    continue
                raise ConnectorError(f"Connector unreachable: {type(exc).__name__}", retryable=True) from None


class Connector:
    """Async Bot Connector calls as one bot."""

    def __init__(self, tokens: BotTokens, hosts: list[str]) -> None:
        self.http = Client(ClientOptions(token=tokens.aget, timeout=TIMEOUT))
        self.http.use(AllowedServiceUrls(hosts))
        self.http.use(Retries())

    async def send(self, address: Address, activity: ActivityParams) -> str:
        """Post in the conversation (as a reply in the thread when it has a root); the new activity's id."""
        client = ConversationActivityClient(address.service_url, self.http)
        try:
            if address.reply_to:
                sent = await client.reply(address.conversation_id, address.reply_to, activity)
            else:
                sent = await client.create(address.conversation_id, activity)
        except TokenUnavailable as exc:
            raise ConnectorError(str(exc), retryable=True) from None
        return sent.id

    async def typing(self, address: Address) -> None:
        """Show the typing indicator (sent, not replied: the Connector answers it without an id)."""
        client = ConversationActivityClient(address.service_url, self.http)
        try:
            await client.create(address.conversation_id, TypingActivityInput())
        except TokenUnavailable as exc:
            raise ConnectorError(str(exc), retryable=True) from None

    async def update(self, address: Address, activity_id: str, activity: ActivityParams) -> None:
        """Replace a posted activity in place (PUT), e.g. the status line or a decided card."""
        client = ConversationActivityClient(address.service_url, self.http)
        try:
            await client.update(address.conversation_id, activity_id, activity)
        except TokenUnavailable as exc:
            raise ConnectorError(str(exc), retryable=True) from None

    async def aclose(self) -> None:
        await self.http.http.aclose()


class BlockingConnector:
    """The same calls for synchronous workers: each runs on a fresh event loop and HTTP client."""

    def __init__(self, tokens: BotTokens, hosts: list[str]) -> None:
        self.tokens = tokens
        self.hosts = hosts

    def send(self, address: Address, activity: ActivityParams) -> str:
        return asyncio.run(self._once(lambda connector: connector.send(address, activity)))

    def typing(self, address: Address) -> None:
        asyncio.run(self._once(lambda connector: connector.typing(address)))

    def update(self, address: Address, activity_id: str, activity: ActivityParams) -> None:
        asyncio.run(self._once(lambda connector: connector.update(address, activity_id, activity)))

    async def _once(self, call: Callable[[Connector], Awaitable[T]]) -> T:
        connector = Connector(self.tokens, self.hosts)
        try:
            return await call(connector)
        finally:
            await connector.aclose()
