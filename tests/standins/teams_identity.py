"""A loopback stand-in for the Microsoft identity endpoints a Teams bot talks to.

- `GET /v1/.well-known/openidconfiguration`: Bot Framework's OpenID metadata, naming the JWKS below
  (point `TEAMS_OPENID_METADATA_URL` here);
- `GET /v1/.well-known/keys`: the JWKS, one RSA key endorsed for `msteams`;
- `POST /botframework.com/oauth2/v2.0/token`: Entra's client-credentials grant (point
  `TEAMS_TOKEN_URL` here); it checks the app id and password and hands out random access tokens.

`activity_token(...)` mints the JWT Bot Framework puts on an inbound activity, signed with the
published key; `forged_token(...)` signs the same claims with a key nobody published. Every request
is counted, so tests can assert that keys and tokens are cached.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.standins.teams_http import JsonStandin, Reply

ISSUER = "https://api.botframework.com"
KEY_ID = "standin-key-1"


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TeamsIdentityStandin(JsonStandin):
    name = "teams-identity-standin"

    def __init__(self, app_id: str, password: str) -> None:
        super().__init__()
        self.app_id = app_id
        self.password = password
        self.key = _private_key()
        self.forger = _private_key()
        self.issued: set[str] = set()
        self.counts = {"metadata": 0, "keys": 0, "token": 0}
        self._lock = threading.Lock()

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self.url}/botframework.com/oauth2/v2.0/token"

    def accepts(self, bearer: str | None) -> bool:
        """True for an access token this stand-in issued (the Bot Connector stand-in asks)."""
        with self._lock:
            return bearer in self.issued

    def claims(self, service_url: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": ISSUER, "aud": self.app_id, "serviceurl": service_url, "nbf": now - 5, "iat": now - 5,
                "exp": now + 3600, **overrides}

    def activity_token(self, service_url: str, **overrides: Any) -> str:
        return jwt.encode(self.claims(service_url, **overrides), self.key, algorithm="RS256",
                          headers={"kid": KEY_ID})

    def forged_token(self, service_url: str, **overrides: Any) -> str:
        return jwt.encode(self.claims(service_url, **overrides), self.forger, algorithm="RS256",
                          headers={"kid": KEY_ID})

    def answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        if method == "GET" and path == "/v1/.well-known/openidconfiguration":
            self._count("metadata")
            return Reply(body={"issuer": ISSUER, "authorization_endpoint": f"{self.url}/authorize",
                               "jwks_uri": f"{self.url}/v1/.well-known/keys",
                               "id_token_signing_alg_values_supported": ["RS256"],
                               "token_endpoint_auth_methods_supported": ["private_key_jwt"]})
        if method == "GET" and path == "/v1/.well-known/keys":
            self._count("keys")
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return Reply(body={"keys": [{**public, "kid": KEY_ID, "use": "sig", "endorsements": ["msteams"]}]})
        if method == "POST" and path == "/botframework.com/oauth2/v2.0/token":
            self._count("token")
            return self._token(parse_qs(raw.decode()))
        return Reply(404, {"error": "not_found"})

    def _token(self, form: dict[str, list[str]]) -> Reply:
        field = {key: values[-1] for key, values in form.items()}
        if field.get("grant_type") != "client_credentials" or field.get("scope") != f"{ISSUER}/.default":
            return Reply(400, {"error": "invalid_request"})
        if field.get("client_id") != self.app_id or field.get("client_secret") != self.password:
            return Reply(401, {"error": "invalid_client"})
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.issued.add(token)
        return Reply(body={"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                           "access_token": token})

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1
