"""Loopback stand-ins for the outside services, driven by the real SDKs over HTTP.

The Messages-API stand-in ships with the product (`workers.scripted_claude`, used by `auditbot demo`);
the Slack Web API one exists only for tests.
"""

from workers.scripted_claude import ScriptedClaude

from .slack_api import Call, SlackAPIStandin

__all__ = ["Call", "ScriptedClaude", "SlackAPIStandin"]
