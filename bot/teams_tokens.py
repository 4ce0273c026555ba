"""Outbound Bot Connector tokens: a client-credentials request to `TEAMS_TOKEN_URL`, cached until expiry.

The SDK's token manager goes through MSAL, which wants an Entra authority to discover rather than
the token endpoint the contract configures, so this one small request is made here. The password
travels only in the request body to the token endpoint; errors name Entra's error code, never the
request.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

import httpx

from workers.settings import Settings, require

BOT_SCOPE = "https://api.botframework.com/.default"
EXPIRY_MARGIN = 300
TIMEOUT = 10


class TokenUnavailable(Exception):
    """The token endpoint refused the credentials or could not be reached."""


@dataclass
class BotTokens:
    """One bot's access tokens; thread-safe, so workers and the web process can share one."""

    token_url: str
    app_id: str
    password: str = field(repr=False)
    _token: str = field(default="", repr=False)
    _expires: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self) -> str | None:
        return self._token if self._token and time.monotonic() < self._expires else None

    def get(self) -> str:
        """Blocking: a token valid for at least a few more minutes."""
        with self._lock:
            token = self.current()
            if token is None:
                token = self._fetch()
            return token

    async def aget(self) -> str:
        return self.current() or await asyncio.to_thread(self.get)

    def _fetch(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": self.app_id, "client_secret": self.password,
                "scope": BOT_SCOPE}
        try:
            reply = httpx.post(self.token_url, data=form, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise TokenUnavailable(f"token endpoint unreachable: {type(exc).__name__}") from None
        body = reply.json() if reply.headers.get("content-type", "").startswith("application/json") else {}
        if reply.status_code != 200 or "access_token" not in body:
            raise TokenUnavailable(f"token endpoint answered {reply.status_code} {body.get('error', '')}".strip())
        self._token = body["access_token"]
        self._expires = time.monotonic() + max(int(body.get("expires_in", 3600)) - EXPIRY_MARGIN, 30)
        return self._token


def bot_tokens(settings: Settings) -> BotTokens:
    """The process's token cache for the configured bot."""
    require(settings, "TEAMS_APP_ID", "TEAMS_APP_PASSWORD")
    return _shared(settings.teams_token_endpoint, settings.teams_app_id,  # type: ignore[arg-type]
                   settings.teams_app_password.get_secret_value())  # type: ignore[union-attr]


@lru_cache(maxsize=4)
def _shared(token_url: str, app_id: str, password: str) -> BotTokens:
    return BotTokens(token_url, app_id, password)
