"""Teams fixtures: loopback identity (OpenID metadata, JWKS, token endpoint) and Bot Connector stand-ins,
and `auditbot web` with Teams on, driven by activities carrying signed JWTs.

Validation stays on: tests reach the product only through `POST /api/messages` with real tokens.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import APPROVER, WebApp
from tests.standins.teams_connector import BotConnectorStandin
from tests.standins.teams_identity import TeamsIdentityStandin

APP_ID = "5f3c1b8e-7d2a-4c61-9e0f-2b7a4d9c1e01"
APP_PASSWORD = "teams-test-password-0123456789"
BOT_ID = f"28:{APP_ID}"
TEAMS_REQUESTER = "0c6a2f4e-1111-4aaa-8bbb-000000000001"
TEAMS_APPROVER = "0c6a2f4e-2222-4aaa-8bbb-000000000002"
BYSTANDER = "0c6a2f4e-3333-4aaa-8bbb-000000000003"
TENANT = "72f988bf-0000-4000-8000-000000000000"
_ids = itertools.count(1)


def next_id() -> str:
    return f"17000000000{next(_ids):02d}"


def message_activity(service_url: str, text: str, *, kind: str = "personal", conversation: str | None = None,
                     user: str = TEAMS_REQUESTER, name: str = "Rita Requester", activity_id: str | None = None,
                     mention: bool = False) -> dict[str, Any]:
    """A message as Teams delivers it; `mention` puts the bot's @mention in front, as channels do."""
    activity_id = activity_id or next_id()
    conversation = conversation or {"personal": "a:1personal-chat", "groupChat": "19:group@thread.v2",
                                    "channel": f"19:chan@thread.tacv2;messageid={activity_id}"}.get(kind, "x:1")
    body: dict[str, Any] = {
        "type": "message", "id": activity_id, "timestamp": "2025-01-01T00:00:00.000Z", "serviceUrl": service_url,
        "channelId": "msteams", "from": {"id": f"29:{user}", "name": name, "aadObjectId": user},
        "conversation": {"id": conversation, "conversationType": kind, "tenantId": TENANT},
        "recipient": {"id": BOT_ID, "name": "auditbot"}, "textFormat": "plain",
        "text": f"<at>auditbot</at> {text}" if mention else text,
        "channelData": {"tenant": {"id": TENANT}},
    }
    if mention:
        body["entities"] = [{"type": "mention", "text": "<at>auditbot</at>",
                             "mentioned": {"id": BOT_ID, "name": "auditbot"}}]
    return body


def card_action(service_url: str, verb: str, value: Any, *, card_id: str, conversation: str = "a:1personal-chat",
                kind: str = "personal", user: str = TEAMS_APPROVER, name: str = "Ada Approver") -> dict[str, Any]:
    """The invoke Teams sends when someone presses an `Action.Execute` button."""
    return {
        "type": "invoke", "name": "adaptiveCard/action", "id": f"f:{next_id()}", "serviceUrl": service_url,
        "channelId": "msteams", "from": {"id": f"29:{user}", "name": name, "aadObjectId": user},
        "conversation": {"id": conversation, "conversationType": kind, "tenantId": TENANT},
        "recipient": {"id": BOT_ID, "name": "auditbot"}, "replyToId": card_id,
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": value}, "trigger": "manual"},
    }


class Teams:
    """Sends activities to `auditbot web` the way Teams does: JSON with a signed bearer token."""

    def __init__(self, web: WebApp, identity: TeamsIdentityStandin, connector: BotConnectorStandin) -> None:
        self.web = web
        self.identity = identity
        self.connector = connector

    def send(self, activity: dict[str, Any], *, token: str | None = None) -> httpx.Response:
        token = token if token is not None else self.identity.activity_token(activity["serviceUrl"])
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.web.client.post("/api/messages", json=activity, headers=headers)

    def message(self, text: str, **kwargs: Any) -> httpx.Response:
        return self.send(message_activity(self.connector.service_url, text, **kwargs))

    def click(self, verb: str, value: Any, **kwargs: Any) -> httpx.Response:
        return self.send(card_action(self.connector.service_url, verb, value, **kwargs))


@pytest.fixture
def identity() -> Iterator[TeamsIdentityStandin]:
    with TeamsIdentityStandin(APP_ID, APP_PASSWORD) as stand_in:
        yield stand_in


@pytest.fixture
def connector(identity: TeamsIdentityStandin) -> Iterator[BotConnectorStandin]:
    with BotConnectorStandin(identity.accepts) as stand_in:
        yield stand_in


@pytest.fixture
def teams_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, identity: TeamsIdentityStandin) -> dict[str, str]:
    values = {
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_APP_PASSWORD": APP_PASSWORD,
        "TEAMS_OPENID_METADATA_URL": identity.metadata_url,
        "TEAMS_TOKEN_URL": identity.token_url,
        "TEAMS_SERVICE_URL_HOSTS": "127.0.0.1",
        "AUDITBOT_APPROVERS": f"{APPROVER},{TEAMS_APPROVER},{TEAMS_REQUESTER}",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**env, **values}


@pytest.fixture
def teams(teams_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, identity: TeamsIdentityStandin,
          connector: BotConnectorStandin) -> Iterator[Teams]:
    """`auditbot web` with Teams on; workers in this process build links to it."""
    app = WebApp(teams_env)
    monkeypatch.setenv("AUDITBOT_PUBLIC_URL", app.url)
    yield Teams(app, identity, connector)
    app.stop()
