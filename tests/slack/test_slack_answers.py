"""What a request looks like in its thread: the live status message, key steps, and Block Kit answers."""

from __future__ import annotations

import pytest

from bot.demo_scripts import export_logs_turns
from tests.slack.helpers import JOB_CANCEL, all_message_problems, ask, status_posts
from workers.scripted_claude import text

pytestmark = pytest.mark.slow
ROOT = "1700001400.000100"

TABLE_ANSWER = """# IAM users without MFA
Found **3** users; the list is below. <@UREQUESTER> asked for it & it is *complete*.

| user | created | console access |
|------|---------|---------------:|
| alice | 2021-03-01 | yes |
| bob | 2022-07-19 | yes |
| carol | 2023-11-30 | no |

## Every access key older than 90 days
| key | user | age (days) |
|-----|------|-----------:|
""" + "".join(f"| AKIA{n:016d} | user{n} | {90 + n} |\n" for n in range(80))


def context_of(args: dict) -> str:
    return " ".join(e["text"] for b in args["blocks"] if b["type"] == "context" for e in b["elements"])


def actions_of(args: dict) -> list[str]:
    return [e["action_id"] for b in args["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_status_message_shows_step_tool_pages_and_elapsed_time_and_key_steps_once(web, slack, claude, conn):
    claude.enqueue(*export_logs_turns())
    ask(web, conn, "Export CloudWatch log group prod-app-logs for the last 7 days to JSON", event_id="EvP1",
        ts=ROOT)
    status = status_posts(slack)[0]
    assert JOB_CANCEL in actions_of(status.args) and "Job `" in context_of(status.args)
    updates = [c.args for c in slack.calls_to("chat.update") if c.args["ts"] == status.response["ts"]]
    assert all(JOB_CANCEL in actions_of(u) for u in updates[:-1]), "Cancel stays while the job runs"
    final = updates[-1]
    assert "Done" in final["text"] and JOB_CANCEL not in actions_of(final)
    assert "tool `aws_export_data`" in context_of(final) and ":stopwatch:" in context_of(final)
    pages = int(context_of(final).split(" pages fetched")[0].rsplit(" ", 1)[-1])
    assert pages >= 2
    steps = [c.args for c in slack.calls_to("chat.postMessage") if c.args["text"].startswith("Running ")]
    assert [s["text"] for s in steps] == ["Running aws_export_data v1"], "one reply per key step"
    assert context_of(steps[0]) == ":small_blue_diamond: Running aws_export_data v1"
    assert all_message_problems(slack) == []


def test_answers_are_block_kit_with_readable_tables_and_long_parts_attached(web, slack, claude, conn):
    claude.enqueue(text(TABLE_ANSWER), text("A long answer. " * 700))
    ask(web, conn, "Which IAM users have no MFA, and which keys are old?", event_id="EvT1", ts=ROOT)
    answer = next(c.args for c in slack.calls_to("chat.postMessage") if "IAM users without MFA" in c.args["text"])
    blocks = answer["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "IAM users without MFA"}}
    assert "Found *3* users; the list is below. <@UREQUESTER> asked for it &amp; it is *complete*." in \
        blocks[1]["text"]["text"]
    assert blocks[2]["text"]["text"].splitlines() == [
        "```", "user  | created    | console access", "------+------------+---------------",
        "alice | 2021-03-01 |            yes", "bob   | 2022-07-19 |            yes",
        "carol | 2023-11-30 |             no", "```"]
    assert "30 of 80 rows shown; every row is in the attached `table-1.csv`" in context_of(answer)
    table = next(f for f in slack.uploaded_files() if f["filename"] == "table-1.csv")
    assert table["thread_ts"] == ROOT and len(table["content"].decode().splitlines()) == 81

    ask(web, conn, "Explain at length", event_id="EvT2", ts="1700001500.000100")
    long = next(c.args for c in slack.calls_to("chat.postMessage") if c.args["text"].startswith("A long answer."))
    assert len(long["text"]) <= 300 and "attached as `answer.md`" in context_of(long)
    whole = next(f for f in slack.uploaded_files() if f["filename"] == "answer.md")
    assert whole["content"].decode() == ("A long answer. " * 700).strip()
    assert all_message_problems(slack) == []
