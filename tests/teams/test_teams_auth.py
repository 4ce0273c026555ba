"""Every inbound activity's JWT is checked: forged, expired, wrong-audience and mismatched tokens get 401."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bot.queueing import queue
from tests.conftest import wait_until
from tests.teams.conftest import message_activity

pytestmark = pytest.mark.slow


def test_bad_tokens_are_refused_and_start_nothing(teams, identity, connector, conn):
    activity = message_activity(connector.service_url, "List IAM users")
    url = connector.service_url
    refused = {
        "missing": "",
        "forged": identity.forged_token(url),
        "expired": identity.activity_token(url, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200,
                                           nbf=int(time.time()) - 7200),
        "wrong audience": identity.activity_token(url, aud="someone-elses-app-id"),
        "wrong issuer": identity.activity_token(url, iss="https://sts.windows.net/attacker/"),
        "serviceurl mismatch": identity.activity_token("https://smba.trafficmanager.net/amer/"),
        "no serviceurl claim": identity.activity_token(url, serviceurl=None),
        "not a JWT": "not-a-jwt",
    }
    for why, token in refused.items():
        reply = teams.web.client.post("/api/messages", json=activity,
                                      headers={"Authorization": f"Bearer {token}"} if token else {})
        assert reply.status_code == 401, why
    assert teams.send(activity, token=identity.activity_token(url)).status_code == 200
    connector.wait_for(lambda c: "Working on it" in c.text)
    wait_until(lambda: queue(conn).count == 1)
    assert len(connector.posts()) == 1


def test_a_token_for_one_conversation_cannot_redirect_replies(teams, identity, connector, conn):
    """A genuine token names its serviceUrl; swapping the activity's serviceUrl for another host fails."""
    elsewhere = message_activity("http://localhost:9/", "List IAM users")
    assert teams.send(elsewhere, token=identity.activity_token(connector.service_url)).status_code == 401
    assert connector.calls == [] and queue(conn).count == 0


def test_service_url_outside_the_allowlist_gets_no_outbound_call(teams, identity, connector, conn):
    """Signed for it, but `localhost` is not in TEAMS_SERVICE_URL_HOSTS: 403, nothing sent, nothing queued."""
    outside = connector.service_url.replace("127.0.0.1", "localhost")
    reply = teams.send(message_activity(outside, "List IAM users"))
    assert reply.status_code == 403
    time.sleep(0.3)
    assert connector.calls == [] and connector.refused == [] and queue(conn).count == 0
    assert identity.counts["token"] == 0, "no outbound token may be fetched for a refused serviceUrl"


def test_signing_keys_are_discovered_once_and_cached(teams, identity, connector):
    for n in range(3):
        assert teams.message(f"List IAM users {n}").status_code == 200
    assert identity.counts == {**identity.counts, "metadata": 1, "keys": 1}


def test_refuses_to_start_with_authentication_switched_off(teams_env):
    env = {**os.environ, **teams_env, "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS": "true"}
    done = subprocess.run([sys.executable, "-m", "bot", "web"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS" in done.stderr


def test_teams_needs_its_password(teams_env):
    env = {key: value for key, value in {**os.environ, **teams_env}.items() if key != "TEAMS_APP_PASSWORD"}
    done = subprocess.run([sys.executable, "-m", "bot", "web"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "TEAMS_APP_PASSWORD is required" in done.stderr
