"""The Teams surface's parts against the loopback stand-ins: tokens, keys, links, the Connector, cards, text."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from microsoft_teams.api import MessageActivityInput

from bot import teams_cards
from bot.teams_auth import KeySource
from bot.teams_connector import Address, BlockingConnector, ConnectorError, ServiceUrlRefused, retry_after
from bot.teams_conversation import TeamsConversation
from bot.teams_links import EvidenceLinks, LinkRefused
from bot.teams_markdown import teams_markdown
from bot.teams_outbox import Outbox
from bot.teams_package import color_icon
from bot.teams_tokens import BotTokens, TokenUnavailable
from tests.teams.conftest import APP_ID, APP_PASSWORD
from workers.conversation import ApprovalRequest, ThreadRef


def test_slack_mrkdwn_becomes_teams_markdown():
    assert teams_markdown(":hourglass: Waiting for *tool* v2") == "⏳ Waiting for **tool** v2"
    assert teams_markdown("job `a*b*c` and ```x = *y*```") == "job `a*b*c` and ```x = *y*```"
    assert teams_markdown("2 * 3 * 4 and <@U123ABC> :unknown_code:") == "2 * 3 * 4 and U123ABC :unknown_code:"


def test_evidence_links_round_trip_and_refuse_tampering(tmp_path):
    (tmp_path / "FY2025").mkdir()
    evidence = tmp_path / "FY2025" / "report one.json"
    evidence.write_text("{}")
    links = EvidenceLinks(b"k" * 32, "https://auditbot.example.com", tmp_path)
    url = httpx.URL(links.url_for(evidence))
    relative = url.path.removeprefix("/evidence/")
    assert links.resolve(relative, url.params["expires"], url.params["sig"]) == evidence
    with pytest.raises(LinkRefused):
        links.resolve("FY2025/other.json", url.params["expires"], url.params["sig"])
    with pytest.raises(LinkRefused):
        links.resolve(relative, str(int(url.params["expires"]) + 1), url.params["sig"])
    forged = hmac.new(b"k" * 32, f"../secret\n{url.params['expires']}".encode(), hashlib.sha256).hexdigest()
    with pytest.raises(LinkRefused, match="outside"):
        links.resolve("../secret", url.params["expires"], forged)


def test_signing_keys_refresh_at_most_once_for_unknown_ids(identity):
    keys = KeySource(identity.metadata_url)
    assert keys.lookup("standin-key-1") is not None
    assert keys.lookup("made-up-1") is None and keys.lookup("made-up-2") is None
    assert identity.counts["metadata"] == 1 and identity.counts["keys"] == 1


def test_outbound_tokens_are_cached_and_errors_keep_the_secret(identity):
    tokens = BotTokens(identity.token_url, APP_ID, APP_PASSWORD)
    assert tokens.get() == tokens.get() and identity.accepts(tokens.get())
    assert identity.counts["token"] == 1
    with pytest.raises(TokenUnavailable) as refused:
        BotTokens(identity.token_url, APP_ID, "wrong-password-0123456789").get()
    assert "invalid_client" in str(refused.value) and "wrong-password" not in str(refused.value)


def test_connector_refuses_hosts_outside_the_allowlist_before_any_call(identity, connector):
    blocking = BlockingConnector(BotTokens(identity.token_url, APP_ID, APP_PASSWORD), ["127.0.0.1"])
    outside = Address(connector.service_url.replace("127.0.0.1", "localhost"), "a:1")
    with pytest.raises(ServiceUrlRefused):
        blocking.send(outside, MessageActivityInput(text="hi"))
    plain_http = BlockingConnector(BotTokens(identity.token_url, APP_ID, APP_PASSWORD), ["example.com"])
    with pytest.raises(ServiceUrlRefused):
        plain_http.send(Address("http://example.com/", "a:1"), MessageActivityInput(text="hi"))
    assert connector.calls == [] and identity.counts["token"] == 0
    assert blocking.send(Address(connector.service_url, "a:1", "root-1"), MessageActivityInput(text="hi"))
    assert connector.calls[0].reply_to == "root-1"


def test_connector_gives_up_on_a_4xx_at_once(identity, connector):
    blocking = BlockingConnector(BotTokens(identity.token_url, APP_ID, APP_PASSWORD), ["127.0.0.1"])
    connector.fail_next(404)
    with pytest.raises(ConnectorError) as failed:
        blocking.send(Address(connector.service_url, "a:gone"), MessageActivityInput(text="hi"))
    assert failed.value.retryable is False and len(connector.refused) == 1


def test_retry_after_reads_seconds_and_dates():
    assert retry_after(httpx.Response(429, headers={"Retry-After": "2.5"})) == 2.5
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after(httpx.Response(429, headers={"Retry-After": when})) <= 30
    assert retry_after(httpx.Response(429, headers={"Retry-After": "86400"})) == 60


def test_approval_card_stays_within_the_message_limit():
    request = ApprovalRequest("tok", "big_tool", 3, "do it", "aad-1", "x = 1\n" * 20_000, False,
                              [f"L{n}: POL001 import of os" for n in range(50)], "passed")
    card = teams_cards.message(teams_cards.approval_card(request)).model_dump(by_alias=True, exclude_none=True)
    assert len(json.dumps(card)) < 28_000
    assert "auditbot tools show big_tool 3" in json.dumps(card)


@pytest.fixture
def conversation(identity, connector, conn, tmp_path) -> TeamsConversation:
    ref = ThreadRef("teams", "a:1personal-chat", "root-1", "aad-1",
                    {"service_url": connector.service_url, "reply_to": "root-1", "user_name": "Rita"})
    blocking = BlockingConnector(BotTokens(identity.token_url, APP_ID, APP_PASSWORD), ["127.0.0.1"])
    links = EvidenceLinks(b"k" * 32, "https://auditbot.example.com", tmp_path)
    return TeamsConversation(blocking, ref, None, links, Outbox(conn), tmp_path / "answers")


def test_screenshots_up_to_1_mb_are_shown_inline(conversation, connector, tmp_path):
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    small.write_bytes(color_icon())
    large.write_bytes(b"\x89PNG" + b"\0" * 1_000_001)
    conversation.upload(small)
    conversation.upload(large)
    images = [[b for b in call.cards[0]["body"] if b["type"] == "Image"] for call in connector.posts()]
    assert images[0][0]["url"].startswith("data:image/png;base64,") and images[1] == []


def test_a_refused_inline_image_falls_back_to_the_link(conversation, connector, tmp_path):
    shot = tmp_path / "shot.png"
    shot.write_bytes(color_icon())
    connector.fail_next(413)
    conversation.upload(shot)
    card = connector.posts()[0].cards[0]
    assert [b["type"] for b in card["body"]] == ["TextBlock", "FactSet"] and card["actions"][0]["url"]


def test_a_lost_status_message_is_posted_again(conversation, connector):
    conversation.status_id = "act-deleted"
    connector.fail_next(404)
    conversation.status("Running list_aws_resources v1 ...", final=True)
    assert conversation.status_id and connector.posts()[0].text == "Running list_aws_resources v1 ..."


def test_evidence_in_s3_is_linked_by_a_presigned_url_of_its_version(tmp_path):
    """With the Object Lock store, the link is S3's own presigned URL of the exact version kept there."""
    import json

    from workers.simulated_aws import SimulatedAWSProcess

    with SimulatedAWSProcess() as aws:
        s3 = aws.client("s3")
        s3.create_bucket(Bucket="acme-evidence", ObjectLockEnabledForBucket=True)
        version = s3.put_object(Bucket="acme-evidence", Key="FY2026/job/report.json", Body=b'{"rows": 3}')
        job = tmp_path / "FY2026" / "job"
        job.mkdir(parents=True)
        (job / "report.json").write_text('{"rows": 3}')
        (job / "local.txt").write_text("only here")
        (job / "manifest.json").write_text(json.dumps({"files": [
            {"name": "report.json", "stored": {"bucket": "acme-evidence", "key": "FY2026/job/report.json",
                                                "version_id": version["VersionId"]}},
            {"name": "local.txt"}]}))
        links = EvidenceLinks(b"k" * 32, "https://auditbot.example.com", tmp_path, s3)
        url = links.url_for(job / "report.json")
        assert url.startswith(f"{aws.endpoint_url}/acme-evidence/FY2026/job/report.json?")
        assert "Signature=" in url and f"versionId={version['VersionId']}" in url
        assert httpx.get(url).content == b'{"rows": 3}'
        assert links.url_for(job / "local.txt").startswith("https://auditbot.example.com/evidence/")
