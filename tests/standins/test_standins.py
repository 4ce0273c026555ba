"""The stand-ins, driven by the real slack_sdk, slack_bolt and anthropic SDKs over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from workers.scripted_claude import NO_TURN_LEFT, REDACTED, ScriptedClaude, error, text, tool_use, tool_uses

from .slack_api import BOT_USER_ID, SlackAPIStandin

BOT_TOKEN = "xoxb-standin-test"
MODEL = "claude-test-model"
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def slack() -> Iterator[SlackAPIStandin]:
    with SlackAPIStandin(bot_token=BOT_TOKEN) as standin:
        yield standin


@pytest.fixture
def web(slack: SlackAPIStandin) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack.base_url)


@pytest.fixture
def claude() -> Iterator[ScriptedClaude]:
    with ScriptedClaude() as standin:
        yield standin


def sdk(claude: ScriptedClaude, max_retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=claude.base_url, api_key="sk-ant-secret", max_retries=max_retries)


# --- Slack Web API ---------------------------------------------------------------------------------------


def test_files_upload_v2_round_trip_keeps_bytes_and_sharing_details(slack: SlackAPIStandin, web: WebClient) -> None:
    data = bytes(range(256)) * 3
    parent = web.chat_postMessage(channel="C1", text="collecting evidence")["ts"]

    response = web.files_upload_v2(channel="C1", thread_ts=parent, content=data, filename="evidence.bin",
                                   title="Evidence", initial_comment="here it is")

    assert response["file"]["name"] == "evidence.bin"
    [shared] = slack.uploaded_files()
    assert shared == {"file_id": response["file"]["id"], "filename": "evidence.bin", "title": "Evidence",
                      "channel_id": "C1", "thread_ts": parent, "initial_comment": "here it is", "content": data}
    [complete] = slack.calls_to("files.completeUploadExternal")
    assert complete.args["files"] == [{"id": response["file"]["id"], "title": "Evidence"}]
    thread = web.conversations_replies(channel="C1", ts=parent)["messages"]
    assert [m.get("subtype") for m in thread] == [None, "file_share"]


def test_async_client_upload_sends_the_same_bytes(slack: SlackAPIStandin) -> None:
    async def upload() -> None:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.base_url)
        await client.files_upload_v2(channel="C2", content=b"%PDF-1.7 \x00\xff", filename="report.pdf")

    asyncio.run(upload())

    [shared] = slack.uploaded_files()
    assert (shared["content"], shared["channel_id"], shared["title"]) == (b"%PDF-1.7 \x00\xff", "C2", "report.pdf")


def test_post_and_update_message_with_bearer_token(slack: SlackAPIStandin, web: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*working*"}}]
    first = web.chat_postMessage(channel="C1", text="working", blocks=blocks)
    second = web.chat_postMessage(channel="C1", text="thread reply", thread_ts=first["ts"])
    web.chat_update(channel="C1", ts=first["ts"], text="done")

    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["user"] == BOT_USER_ID
    post = slack.calls_to("chat.postMessage")[0]
    assert post.args["blocks"] == blocks
    assert post.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert {call.token for call in slack.calls} == {BOT_TOKEN}
    assert [m["text"] for m in slack.messages["C1"]] == ["done", "thread reply"]
    replies = web.conversations_replies(channel="C1", ts=first["ts"])["messages"]
    assert [m["ts"] for m in replies] == [first["ts"], second["ts"]]


def test_rate_limit_is_retried_by_the_sdk_handler(slack: SlackAPIStandin) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=slack.base_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    slack.fail_next("chat.postMessage", retry_after=0)

    response = client.chat_postMessage(channel="C1", text="hi")

    assert response["ok"] is True
    attempts = slack.calls_to("chat.postMessage")
    assert [call.status for call in attempts] == [429, 200]
    assert attempts[0].response == {"ok": False, "error": "ratelimited"}


def test_rate_limit_without_handler_surfaces_retry_after(slack: SlackAPIStandin, web: WebClient) -> None:
    slack.fail_next("reactions.add", retry_after=30)

    with pytest.raises(SlackApiError) as raised:
        web.reactions_add(channel="C1", timestamp="1.0", name="eyes")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "30"


def test_injected_api_error_then_recovery(slack: SlackAPIStandin, web: WebClient) -> None:
    slack.fail_next("chat.update", error="message_not_found", times=2)
    ts = web.chat_postMessage(channel="C1", text="x")["ts"]

    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            web.chat_update(channel="C1", ts=ts, text="y")
        assert raised.value.response["error"] == "message_not_found"
    assert web.chat_update(channel="C1", ts=ts, text="y")["ok"] is True


def test_wrong_token_and_unknown_method_are_refused_and_recorded(slack: SlackAPIStandin) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(token="xoxb-other", base_url=slack.base_url).auth_test()
    assert raised.value.response["error"] == "invalid_auth"

    with pytest.raises(SlackApiError) as raised:
        WebClient(token=BOT_TOKEN, base_url=slack.base_url).api_call("admin.everything.delete")
    assert raised.value.response["error"] == "unknown_method"
    assert [(call.method, call.token) for call in slack.calls] == [
        ("auth.test", "xoxb-other"), ("admin.everything.delete", BOT_TOKEN)]


def test_views_and_users(slack: SlackAPIStandin, web: WebClient) -> None:
    view = web.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    user = web.users_info(user="U123")["user"]

    assert view["type"] == "home" and view["id"].startswith("V")
    assert user["id"] == "U123"
    assert slack.calls_to("users.info")[0].args == {"user": "U123"}


def test_wait_for_fails_with_what_it_saw(slack: SlackAPIStandin, web: WebClient) -> None:
    web.auth_test()

    with pytest.raises(AssertionError, match=r"chat\.postMessage.*auth\.test"):
        slack.wait_for("chat.postMessage", timeout=0.05)


def test_bolt_app_replies_through_the_standin(slack: SlackAPIStandin, web: WebClient) -> None:
    app = App(signing_secret="signing-secret", client=web)

    @app.message("hello")
    def greet(say):  # noqa: ANN001 - bolt injects by name
        say("hi there")

    body = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": "Ev1",
                       "event_time": 1, "event": {"type": "message", "channel": "C9", "user": "U1",
                                                  "text": "hello", "ts": "1.000001", "channel_type": "channel"}})
    timestamp = str(int(time.time()))
    signature = SignatureVerifier("signing-secret").generate_signature(timestamp=timestamp, body=body)
    headers = {"content-type": ["application/json"], "x-slack-request-timestamp": [timestamp],
               "x-slack-signature": [signature]}

    assert app.dispatch(BoltRequest(body=body, headers=headers)).status == 200
    [post] = slack.wait_for("chat.postMessage", predicate=lambda call: call.args.get("channel") == "C9")
    assert post.args["text"] == "hi there"
    assert slack.calls_to("auth.test")


# --- Anthropic Messages API ------------------------------------------------------------------------------


def test_create_answers_like_the_api_and_records_redacted(claude: ScriptedClaude) -> None:
    claude.enqueue(text("All buckets are encrypted."))

    message = sdk(claude).messages.create(model=MODEL, max_tokens=100, messages=HELLO)

    assert message.id.startswith("msg_") and message.model == MODEL
    assert (message.stop_reason, message.content[0].text) == ("end_turn", "All buckets are encrypted.")
    [request] = claude.requests
    assert message.usage.input_tokens == int(request["headers"]["content-length"]) // 4
    assert request["path"] == "/v1/messages" and request["body"]["messages"] == HELLO
    assert request["headers"]["authorization"] == REDACTED
    assert "sk-ant-secret" not in json.dumps(claude.requests)


def test_stream_delivers_text_and_tool_input_as_deltas(claude: ScriptedClaude) -> None:
    tool_input = {"bucket": "evidence-" + "x" * 40, "days": 7}
    claude.enqueue(tool_use("list_objects", tool_input, id="toolu_1", text="Let me look at that bucket."))

    with sdk(claude).messages.stream(model=MODEL, max_tokens=100, messages=HELLO) as stream:
        events = list(stream)
        final = stream.get_final_message()

    deltas = [e.delta for e in events if e.type == "content_block_delta"]
    json_parts = [d.partial_json for d in deltas if d.type == "input_json_delta"]
    assert len(json_parts) > 1 and json.loads("".join(json_parts)) == tool_input
    assert any(d.type == "text_delta" for d in deltas)
    assert final.stop_reason == "tool_use"
    assert (final.content[1].id, final.content[1].input) == ("toolu_1", tool_input)
    assert final.usage.output_tokens > 1


def test_create_with_stream_true_yields_raw_events_in_order(claude: ScriptedClaude) -> None:
    claude.enqueue(text("ok"))

    kinds = [event.type for event in sdk(claude).messages.create(model=MODEL, max_tokens=10, messages=HELLO,
                                                                  stream=True)]

    assert kinds == ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
                     "message_delta", "message_stop"]


def test_tool_use_round_trip_with_a_reacting_turn(claude: ScriptedClaude) -> None:
    def report(body: dict) -> dict:
        result = body["messages"][-1]["content"][0]
        return text(f"{result['tool_use_id']} said {result['content']}")

    claude.enqueue(tool_uses([("count_buckets", {}), ("count_users", {})]), report)
    client = sdk(claude)
    tools = [{"name": n, "input_schema": {"type": "object"}} for n in ("count_buckets", "count_users")]

    first = client.messages.create(model=MODEL, max_tokens=100, messages=HELLO, tools=tools)
    results = [{"type": "tool_result", "tool_use_id": block.id, "content": str(i)}
               for i, block in enumerate(first.content)]
    history = [*HELLO, {"role": "assistant", "content": first.content}, {"role": "user", "content": results}]
    final = client.messages.create(model=MODEL, max_tokens=100, messages=history, tools=tools)

    assert [block.name for block in first.content] == ["count_buckets", "count_users"]
    assert final.content[0].text == f"{first.content[0].id} said 0"
    assert claude.turns_left == 0


def test_missing_tool_result_is_refused_without_consuming_a_turn(claude: ScriptedClaude) -> None:
    claude.enqueue(text("never sent"))
    asked = {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_9", "name": "t", "input": {}}]}

    with pytest.raises(anthropic.BadRequestError, match="toolu_9"):
        sdk(claude).messages.create(model=MODEL, max_tokens=10,
                                    messages=[*HELLO, asked, {"role": "user", "content": "and?"}])

    assert claude.turns_left == 1


def test_overloaded_is_retried_by_the_sdk(claude: ScriptedClaude) -> None:
    claude.enqueue(error(529, "overloaded_error", "Overloaded"), text("second try"))

    message = sdk(claude, max_retries=2).messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    assert message.content[0].text == "second try"
    assert [r["status"] for r in claude.requests] == [529, 200]
    assert claude.requests[1]["headers"]["x-stainless-retry-count"] == "1"


def test_rate_limit_carries_retry_after(claude: ScriptedClaude) -> None:
    claude.enqueue(error(429, "rate_limit_error", "Slow down", retry_after=12))

    with pytest.raises(anthropic.RateLimitError) as raised:
        sdk(claude).messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    assert raised.value.response.headers["retry-after"] == "12"
    assert raised.value.body == {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}


def test_rate_limit_then_success_with_sdk_retry(claude: ScriptedClaude) -> None:
    claude.enqueue(error(429, "rate_limit_error", "Slow down", retry_after=0.01), text("ok"))

    message = sdk(claude, max_retries=1).messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    assert message.content[0].text == "ok"
    assert [r["status"] for r in claude.requests] == [429, 200]


def test_empty_script_fails_once_with_a_clear_message(claude: ScriptedClaude) -> None:
    with pytest.raises(anthropic.InternalServerError, match=NO_TURN_LEFT):
        sdk(claude, max_retries=2).messages.create(model=MODEL, max_tokens=10, messages=HELLO)

    assert [r["status"] for r in claude.requests] == [500]


def test_count_tokens_does_not_consume_a_turn(claude: ScriptedClaude) -> None:
    claude.enqueue(text("kept"))

    counted = sdk(claude).messages.count_tokens(model=MODEL, messages=HELLO)

    assert counted.input_tokens > 0
    assert claude.requests[0]["path"] == "/v1/messages/count_tokens" and claude.turns_left == 1


def test_prompt_caching_creates_then_reads_the_prefix(claude: ScriptedClaude) -> None:
    claude.enqueue(text("one"), text("two"))
    system = [{"type": "text", "text": "You collect audit evidence. " * 20, "cache_control": {"type": "ephemeral"}}]
    client = sdk(claude)

    first = client.messages.create(model=MODEL, max_tokens=10, system=system, messages=HELLO).usage
    second = client.messages.create(model=MODEL, max_tokens=10, system=system,
                                    messages=[{"role": "user", "content": "hello again"}]).usage

    assert first.cache_creation_input_tokens > 0 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0


def test_script_file_for_the_demo(tmp_path: Path) -> None:
    script = tmp_path / "demo.json"
    script.write_text(json.dumps([
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}, "retry_after": 0.01},
        {"role": "assistant", "content": [{"type": "tool_use", "name": "list_buckets", "input": {}}]},
        "Done.",
    ]))

    with ScriptedClaude.from_file(script) as claude:
        client = sdk(claude, max_retries=1)
        asked = client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": asked.content[0].id}]}
        answer = client.messages.create(model=MODEL, max_tokens=10,
                                        messages=[*HELLO, {"role": "assistant", "content": asked.content}, result])

    assert asked.stop_reason == "tool_use" and asked.content[0].id.startswith("toolu_")
    assert answer.content[0].text == "Done."
    assert [r["status"] for r in claude.requests] == [529, 200, 200]
