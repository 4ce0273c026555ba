"""Inbound Teams authentication: every activity's JWT is checked before anything else runs.

A Bot Framework activity carries `Authorization: Bearer <JWT>`, signed with a key from the JWKS that
`TEAMS_OPENID_METADATA_URL` names. We check the signature (RS256 only), the issuer
(`https://api.botframework.com`), the audience (our app id), the expiry (five minutes of clock skew,
as the Bot Framework allows), the key's endorsement for the activity's channel, and that the token's
`serviceurl` claim equals the activity's `serviceUrl`. The last one matters most: without it, a
token minted for one conversation could make us send replies, and our outbound token, elsewhere.

Keys are cached for a day. An unknown key id refreshes them at most once per `REFRESH_EVERY`, so
made-up key ids cannot make us hammer the metadata endpoint. Fetches run in a thread, never on the
event loop that also serves Slack.

Why not the SDK's `TokenValidator`: it derives the key URL from the metadata URL instead of
discovering it, also accepts Entra-issued (Agent 365) tokens on the same endpoint, and fetches keys
on the event loop. PyJWT, which the SDK uses underneath, does the cryptography here too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

log = logging.getLogger(__name__)

ISSUER = "https://api.botframework.com"
CLOCK_SKEW = 300
KEY_TTL = 24 * 3600
REFRESH_EVERY = 300
FETCH_TIMEOUT = 10


class Unauthenticated(Exception):
    """The activity's token is missing, forged, expired or meant for someone else."""


@dataclass(frozen=True)
class SigningKey:
    key: jwt.PyJWK
    endorsements: tuple[str, ...]


@dataclass
class KeySource:
    """The signing keys the OpenID metadata points at, fetched over HTTP and cached."""

    metadata_url: str
    _keys: dict[str, SigningKey] = field(default_factory=dict)
    _fetched: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cached(self, kid: str) -> SigningKey | None:
        if time.monotonic() - self._fetched > KEY_TTL:
            return None
        return self._keys.get(kid)

    def lookup(self, kid: str) -> SigningKey | None:
        """Blocking: the key for `kid`, refreshing the set when it is stale or lacks that key."""
        with self._lock:
            key = self.cached(kid)
            stale = time.monotonic() - self._fetched > KEY_TTL
            if key is None and (stale or time.monotonic() - self._fetched > REFRESH_EVERY):
                self._keys, self._fetched = self._fetch(), time.monotonic()
                key = self._keys.get(kid)
            return key

    def _fetch(self) -> dict[str, SigningKey]:
        with httpx.Client(timeout=FETCH_TIMEOUT) as http:
            metadata = http.get(self.metadata_url)
            metadata.raise_for_status()
            jwks = http.get(metadata.json()["jwks_uri"])
            jwks.raise_for_status()
        keys = {}
        for raw in jwks.json().get("keys", []):
            try:
                keys[raw["kid"]] = SigningKey(jwt.PyJWK(raw), tuple(raw.get("endorsements") or ()))
            except (KeyError, jwt.PyJWKError):
                log.warning("ignoring an unusable key in the Teams JWKS")
        return keys


class ActivityAuthenticator:
    """Verifies inbound activities' tokens for one bot app id."""

    def __init__(self, app_id: str, keys: KeySource) -> None:
        self.app_id = app_id
        self.keys = keys

    async def verify(self, authorization: str | None, service_url: Any, channel_id: Any) -> dict[str, Any]:
        """The token's claims, or `Unauthenticated` saying why (for the log, never for the caller)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Bearer" or not token:
            raise Unauthenticated("no bearer token")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"malformed token: {exc}") from None
        if not isinstance(kid, str):
            raise Unauthenticated("token names no signing key")
        signing = self.keys.cached(kid)
        if signing is None:
            try:
                signing = await asyncio.to_thread(self.keys.lookup, kid)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                raise Unauthenticated(f"signing keys unavailable: {type(exc).__name__}") from None
        if signing is None:
            raise Unauthenticated("unknown signing key")
        if signing.endorsements and channel_id not in signing.endorsements:
            raise Unauthenticated(f"key not endorsed for channel {channel_id!r}")
        try:
            claims = jwt.decode(token, signing.key.key, algorithms=["RS256"], audience=self.app_id, issuer=ISSUER,
                                leeway=CLOCK_SKEW, options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"{type(exc).__name__}: {exc}") from None
        claimed = claims.get("serviceurl")
        if not isinstance(claimed, str) or not isinstance(service_url, str) or \
                claimed.rstrip("/") != service_url.rstrip("/"):
            raise Unauthenticated("serviceurl claim does not match the activity's serviceUrl")
        return claims
