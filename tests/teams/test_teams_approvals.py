"""Approve/Reject from a Teams Adaptive Card, under the same rules and registry as Slack's buttons.

A tool approved from Teams is then used from Slack without a new card, and the reverse: one agent,
one registry. A non-approver's click, the requester's own (four-eyes), a second click and a forged
value each get a card for the clicker alone and change nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from bot.queueing import queue
from tests.conftest import APPROVER, REQUESTER, drain, wait_until
from tests.teams.conftest import BYSTANDER, TEAMS_APPROVER, TEAMS_REQUESTER
from workers.registry import Registry
from workers.scripted_claude import text, tool_use

pytestmark = pytest.mark.slow

TOOL = "count_s3_buckets"
SOURCE = '''"""Count the account's S3 buckets and list their names."""

PARAMETERS = {"type": "object", "properties": {}, "required": []}


def run(ctx):
    names = [bucket["Name"] for bucket in ctx.client("s3").list_buckets().get("Buckets", [])]
    ctx.save_json("s3_bucket_names.json", {"count": len(names), "buckets": names})
    return {"summary": f"{len(names)} S3 buckets", "count": len(names)}


def selftest(ctx):
    ctx.client("s3").create_bucket(Bucket="selftest-bucket")
    assert run(ctx)["count"] >= 1
'''


def write_and_use_turns() -> list:
    return [
        tool_use("generate_new_tool", {"tool_name": TOOL, "description": "Count S3 buckets", "parameters": [],
                                       "functionality": "list buckets", "aws_services": ["s3"],
                                       "libraries_needed": [], "code": SOURCE}),
        tool_use(TOOL, {}),
        text("Counted the S3 buckets; the list is attached."),
    ]


def use_turns() -> list:
    return [tool_use(TOOL, {}), text("Counted the S3 buckets again.")]


def queued(conn) -> int:
    return queue(conn).count


def teams_card(connector) -> tuple[str, str]:
    """The approval card's activity id and the opaque value its buttons carry."""
    for call in connector.posts():
        for card in call.cards:
            for action in card.get("actions", []):
                if action.get("verb") == "tool_approve":
                    return call.id, action["data"]["value"]
    raise AssertionError("no approval card was posted to Teams")


def slack_card(slack) -> tuple[str, str]:
    for call in slack.calls_to("chat.postMessage"):
        for block in call.args.get("blocks") or []:
            for element in block.get("elements", []):
                if element.get("action_id") == "tool_approve":
                    return call.response["ts"], element["value"]
    raise AssertionError("no approval card was posted to Slack")


def registry(env) -> Registry:
    return Registry(redis.Redis.from_url(env["REDIS_URL"]), Path(env["AUDITBOT_DATA_DIR"]))


def invoke_card(reply) -> dict:
    assert reply.status_code == 200
    body = reply.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    return body["value"]


def test_tool_approved_in_teams_is_reused_from_slack(teams, connector, slack, claude, conn, env):
    claude.enqueue(*write_and_use_turns())
    teams.message("Count our S3 buckets")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    card_id, value = teams_card(connector)
    card = connector.current[card_id]["attachments"][0]["content"]
    assert card["version"] == "1.5" and "def run(ctx)" in json.dumps(card) and "passed against simulated AWS" in \
        json.dumps(card)
    assert [a["verb"] for a in card["actions"]] == ["tool_approve", "tool_reject"]
    assert registry(env).get(TOOL, 1).status == "pending"

    refused = invoke_card(teams.click("tool_approve", {"value": value}, card_id=card_id, user=BYSTANDER,
                                      name="Bo Bystander"))
    assert "Only approvers may decide" in json.dumps(refused) and refused["actions"], "refusal, buttons kept"
    own = invoke_card(teams.click("tool_approve", {"value": value}, card_id=card_id, user=TEAMS_REQUESTER))
    assert "Four-eyes rule" in json.dumps(own)
    assert registry(env).get(TOOL, 1).status == "pending" and queued(conn) == 0
    assert not [put for put in connector.puts() if put.id == card_id]

    decided = invoke_card(teams.click("tool_approve", {"value": value}, card_id=card_id))
    assert "Approved** by Ada Approver" in json.dumps(decided) and "actions" not in decided
    version = registry(env).get(TOOL, 1)
    assert version.status == "approved" and version.approver == TEAMS_APPROVER
    put = connector.wait_for(lambda c: c.method == "PUT" and c.id == card_id)[0]
    assert put.cards == [decided], "everyone sees the card the clicker saw"
    connector.wait_for(lambda c: "approved by Ada Approver" in c.text)

    again = invoke_card(teams.click("tool_reject", {"value": value}, card_id=card_id))
    assert "nothing was changed" in json.dumps(again) and "actions" not in again
    assert registry(env).get(TOOL, 1).status == "approved"

    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    assert any("Counted the S3 buckets" in c.text for c in connector.posts())

    claude.enqueue(*use_turns())
    teams.web.event({"type": "app_mention", "user": REQUESTER, "text": "<@UBOT> Count our S3 buckets",
                     "ts": "1700000100.000100", "channel": "C1"}, event_id="EvReuse")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    assert "s3_bucket_names.json" in {f["filename"] for f in slack.uploaded_files()}
    with pytest.raises(AssertionError, match="no approval card"):
        slack_card(slack)
    assert any("Counted the S3 buckets again" in c.args["text"] for c in slack.calls_to("chat.postMessage"))


def test_tool_approved_in_slack_is_reused_from_teams(teams, connector, slack, claude, conn, env):
    claude.enqueue(*write_and_use_turns())
    teams.web.event({"type": "app_mention", "user": REQUESTER, "text": "<@UBOT> Count our S3 buckets",
                     "ts": "1700000200.000100", "channel": "C1"}, event_id="EvWrite")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    ts, value = slack_card(slack)
    assert teams.web.click("tool_approve", value, user=APPROVER, message_ts=ts).status_code == 200
    wait_until(lambda: registry(env).get(TOOL, 1).status == "approved")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)

    claude.enqueue(*use_turns())
    teams.message("Count our S3 buckets", kind="groupChat", mention=True)
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    posts = connector.posts()
    assert not any(a.get("verb") for c in posts for card in c.cards for a in card.get("actions", []))
    assert any(card["body"][0]["text"] == "s3_bucket_names.json" for c in posts for card in c.cards)
    assert any("Counted the S3 buckets again" in c.text for c in posts)


def test_rejected_from_teams_never_runs(teams, connector, claude, conn, env):
    claude.enqueue(*write_and_use_turns()[:2], text("The tool was rejected, so I did not count the buckets."))
    teams.message("Count our S3 buckets")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    card_id, value = teams_card(connector)
    decided = invoke_card(teams.click("tool_reject", {"value": value}, card_id=card_id))
    assert "Rejected** by Ada Approver" in json.dumps(decided)
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    assert registry(env).get(TOOL, 1).status == "rejected"
    assert not any(card["body"][0]["text"] == "s3_bucket_names.json" for c in connector.posts() for card in c.cards)
    assert any("rejected" in c.text for c in connector.posts())


def test_stale_or_altered_card_actions_change_nothing(teams, connector, conn):
    for verb, data in (("tool_approve", {"value": "altered-token"}), ("tool_approve", {}),
                       ("tool_delete_everything", {"value": "x"}), ("tool_reject", {"value": ["x"]})):
        card = invoke_card(teams.click(verb, data, card_id="act-1"))
        assert "nothing was changed" in json.dumps(card) and "actions" not in card
    assert teams.click("tool_reject", "not-an-object", card_id="act-1").status_code == 400
    assert connector.calls == [] and queued(conn) == 0
