"""Rebuild a job's conversation from its stored reference: the one place that knows every surface."""

from __future__ import annotations

from workers.conversation import Conversation
from workers.job_state import JobState
from workers.settings import Settings, require


class UnknownSurface(Exception):
    """A job whose surface this process cannot talk to."""


def conversation_for(job: JobState, settings: Settings) -> Conversation:
    surface = job.thread.surface
    status_ts = (job.status_message or {}).get("id")
    if surface == "slack":
        from bot.slack_conversation import SlackConversation, web_client

        require(settings, "SLACK_BOT_TOKEN")
        token = settings.slack_bot_token.get_secret_value()  # type: ignore[union-attr]
        return SlackConversation(web_client(token, settings.slack_api_url), job.thread, status_ts)
    if surface == "teams":
        from bot.teams_conversation import teams_conversation

        return teams_conversation(job.id, job.thread, status_ts, settings)
    raise UnknownSurface(f"job {job.id} belongs to surface {surface!r}, which this worker does not serve")
