"""The Slack app manifests ask for exactly what the app uses, for HTTP and for Socket Mode."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCOPE_OF = {"chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write",
            "files_upload_v2": "files:write", "views_publish": None, "auth_test": None}
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history", "app_home_opened": None}
"""The events the app listens to (each driven end to end in tests/slack and tests/e2e) and the scope each needs."""


def manifest(name: str) -> dict:
    return yaml.safe_load((ROOT / "slack" / name).read_text())


def web_api_methods() -> set[str]:
    """Every Web API method the Slack code calls (`client.<method>(`)."""
    source = "".join(p.read_text() for p in (ROOT / "bot").glob("slack_*.py"))
    return set(re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)\(", source))


def test_the_manifests_cover_every_event_command_scope_and_interaction():
    methods = web_api_methods()
    assert methods <= set(SCOPE_OF), f"a Web API method without a known scope: {methods - set(SCOPE_OF)}"

    for name, socket_mode in (("manifest.yml", False), ("manifest-socket.yml", True)):
        m = manifest(name)
        scopes = set(m["oauth_config"]["scopes"]["bot"])
        events = set(m["settings"]["event_subscriptions"]["bot_events"])
        assert events == set(EVENT_SCOPES)
        assert scopes == {s for s in [*(SCOPE_OF[x] for x in methods), *EVENT_SCOPES.values()] if s} | {"commands"}
        assert [c["command"] for c in m["features"]["slash_commands"]] == ["/audit"]
        assert m["features"]["app_home"]["home_tab_enabled"] and m["features"]["app_home"]["messages_tab_enabled"]
        assert not m["features"]["app_home"]["messages_tab_read_only_enabled"], "DMs are requests"
        assert m["settings"]["interactivity"]["is_enabled"]
        assert m["settings"]["socket_mode_enabled"] is socket_mode
        urls = [m["settings"]["event_subscriptions"].get("request_url"), m["settings"]["interactivity"].get(
            "request_url"), m["features"]["slash_commands"][0].get("url")]
        if socket_mode:
            assert urls == [None, None, None]
        else:
            assert all(u and u.endswith("/slack/events") for u in urls), "one URL for everything (the contract)"
        assert len(m["display_information"]["description"]) <= 140
        assert len(m["features"]["slash_commands"][0]["description"]) <= 100
