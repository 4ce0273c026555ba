"""A request typed in Teams comes back in its thread: status in place, evidence links, the answer.

The real `auditbot web` (over HTTP, JWTs validated), real Redis and RQ workers, the Teams SDK's
client against a loopback Bot Connector, and the product's evidence downloads.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bot.demo_scripts import export_logs_turns
from bot.queueing import queue
from bot.teams_links import EvidenceLinks
from tests.conftest import drain, wait_until
from tests.teams.conftest import TEAMS_REQUESTER, message_activity
from workers.scripted_claude import text
from workers.settings import load_settings

pytestmark = pytest.mark.slow

EXPORT = "Export CloudWatch log group prod-app-logs for the last 7 days to JSON"
LINK = re.compile(r"\[([^\]]+)\]\((http[^)]+)\)")


def queued(conn) -> int:
    return queue(conn).count


def download_url(card: dict) -> str:
    return next(a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl")


def manifest_card(connector) -> dict:
    return next(card for call in connector.posts() for card in call.cards
                if any(a.get("title", "").endswith("manifest.json") for a in card.get("actions", [])))


def test_personal_chat_request_answered_with_evidence_links(teams, connector, claude, conn, env):
    claude.enqueue(*export_logs_turns())
    activity = message_activity(connector.service_url, EXPORT)
    assert teams.send(activity).status_code == 200
    status = connector.wait_for(lambda c: "Working on it" in c.text)[0]
    assert status.conversation == "a:1personal-chat" and status.reply_to == activity["id"]
    wait_until(lambda: queued(conn) == 1)
    drain(conn)

    card = manifest_card(connector)
    manifest = teams.web.client.get(download_url(card)).json()
    on_disk = next(Path(env["AUDITBOT_EVIDENCE_DIR"]).glob("FY*/*/*/manifest.json"))
    assert manifest == json.loads(on_disk.read_text())
    assert manifest["request"]["surface"] == "teams" and manifest["request"]["user"] == TEAMS_REQUESTER
    links = {name: url for body in card["body"] for name, url in LINK.findall(body.get("text", ""))}
    assert set(links) == {f["name"] for f in manifest["files"]}
    for entry in manifest["files"]:
        got = teams.web.client.get(links[entry["name"]])
        assert got.status_code == 200
        assert hashlib.sha256(got.content).hexdigest() == entry["sha256"]
        assert entry["sha256"] in json.dumps(card), "the manifest card shows each file's sha256"
    exported = json.loads(teams.web.client.get(links[manifest["files"][0]["name"]]).content)
    assert len(exported["items"]) == 12_500

    fact_sets = [{f["title"]: f["value"] for f in b["facts"]} for call in connector.posts() for c in call.cards
                 for b in c["body"] if b["type"] == "FactSet"]
    shown = {facts["File"]: facts["SHA-256"] for facts in fact_sets}
    assert shown[manifest["files"][0]["name"]] == manifest["files"][0]["sha256"]
    answers = [c.text for c in connector.posts()]
    assert any("12500" in t or "12,500" in t for t in answers), answers
    assert all(c.conversation == "a:1personal-chat" and c.reply_to == activity["id"] for c in connector.posts())
    assert "✅ Done" in connector.current[status.id]["text"], "the status line is updated in place, in Teams Markdown"
    assert any(c.body.get("type") == "typing" for c in connector.calls)


def test_evidence_links_expire_and_cannot_be_altered(teams, connector, claude, conn, env):
    claude.enqueue(*export_logs_turns())
    teams.message(EXPORT)
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    good = download_url(manifest_card(connector))
    assert teams.web.client.get(good).status_code == 200
    signature = good.rsplit("sig=", 1)[1]
    altered_sig = good.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    other_file = re.sub(r"/manifest\.json\?", "/cloudwatch_logs.json?", good)
    later = good.replace("expires=", "expires=9")
    for bad in (altered_sig, other_file, later, good.split("?")[0]):
        reply = teams.web.client.get(bad)
        assert reply.status_code == 403 and "expired or was altered" in reply.text
    on_disk = next(Path(env["AUDITBOT_EVIDENCE_DIR"]).glob("FY*/*/*/manifest.json"))
    expired = EvidenceLinks.from_settings(load_settings()).url_for(on_disk, ttl=-1)
    assert teams.web.client.get(expired).status_code == 403


def test_channel_mention_is_answered_in_its_thread(teams, connector, claude, conn, env):
    claude.enqueue(*export_logs_turns())
    activity = message_activity(connector.service_url, EXPORT, kind="channel", mention=True)
    assert teams.send(activity).status_code == 200
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    thread = activity["conversation"]["id"]
    assert thread.endswith(f";messageid={activity['id']}")
    posts = connector.posts()
    assert len(posts) >= 4 and all(c.conversation == thread and c.reply_to == activity["id"] for c in posts)
    manifest = json.loads(next(Path(env["AUDITBOT_EVIDENCE_DIR"]).glob("FY*/*/*/manifest.json")).read_text())
    assert manifest["request"]["text"] == EXPORT, "the bot's @mention is not part of the request"
    assert manifest["request"]["thread"] == activity["id"]


def test_duplicate_activity_gives_one_job(teams, connector, conn):
    activity = message_activity(connector.service_url, "List IAM users")
    assert teams.send(activity).status_code == 200
    assert teams.send(activity).status_code == 200
    connector.wait_for(lambda c: "Working on it" in c.text)
    wait_until(lambda: queued(conn) == 1)
    other = message_activity(connector.service_url, "List IAM users", conversation="a:1other-chat",
                             activity_id=activity["id"])
    assert teams.send(other).status_code == 200, "the same id in another conversation is another request"
    wait_until(lambda: queued(conn) == 2)
    assert len(connector.posts()) == 2


def test_bad_input_gets_clear_answers_and_starts_nothing(teams, connector, conn):
    teams.message("", kind="channel", mention=True)
    assert "without a request" in connector.wait_for(lambda c: c.method == "POST")[0].text
    teams.message("Export logs", kind="meetingChat")
    assert "can't work in this kind of conversation" in connector.wait_for(lambda c: c.method == "POST", 2)[1].text
    teams.message("help")
    assert "audit evidence" in connector.wait_for(lambda c: c.method == "POST", 3)[2].text
    teams.message("x" * 4001)
    assert "at most 4,000" in connector.wait_for(lambda c: c.method == "POST", 4)[3].text
    malformed = teams.send({"type": "message", "serviceUrl": connector.service_url, "channelId": "msteams"})
    assert malformed.status_code == 400
    assert queued(conn) == 0


def test_long_answer_goes_into_a_linked_file(teams, connector, claude, conn):
    answer = "Users without MFA:\n" + "\n".join(f"- user-{n:05d}@example.com" for n in range(2000))
    claude.enqueue(text(answer))
    teams.message("List every IAM user without MFA")
    wait_until(lambda: queued(conn) == 1)
    drain(conn)
    card = next(card for call in connector.posts() for card in call.cards if "too long" in json.dumps(card))
    assert len(json.dumps(card)) < 28_000
    assert teams.web.client.get(download_url(card)).text == answer


def test_rate_limited_connector_is_waited_out(teams, connector, claude, conn):
    claude.enqueue(text("There are 3 IAM users."))
    teams.message("How many IAM users are there?")
    connector.wait_for(lambda c: "Working on it" in c.text)
    wait_until(lambda: queued(conn) == 1)
    connector.fail_next(429, times=2, retry_after=0.5)
    drain(conn)
    assert [status for _, _, status in connector.refused] == [429, 429]
    assert any("3 IAM users" in c.text for c in connector.posts())


def test_connector_down_the_answer_is_retried_not_lost(teams, connector, claude, conn):
    claude.enqueue(text("There are 3 IAM users."))
    teams.message("How many IAM users are there?")
    status = connector.wait_for(lambda c: "Working on it" in c.text)[0]
    wait_until(lambda: queued(conn) == 1)
    connector.fail_next(503, times=1000)
    drain(conn)
    assert not any("3 IAM users" in c.text for c in connector.posts())
    scheduled = ScheduledJobRegistry(queue=queue(conn))
    assert len(scheduled.get_job_ids()) == 2, "the answer and the final status wait in the outbox"

    connector.recover()
    for job_id in scheduled.get_job_ids():
        scheduled.schedule(Job.fetch(job_id, connection=conn), datetime.now(UTC))
    SimpleWorker([queue(conn)], connection=conn).work(burst=True, with_scheduler=True)
    assert any("3 IAM users" in c.text for c in connector.posts())
    assert "Done" in connector.current[status.id]["text"]
