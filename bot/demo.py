"""`auditbot demo`: the whole product offline, with recorded Claude turns and simulated AWS."""

from __future__ import annotations

from rich.console import Console

from bot.chat import ChatResult, run_chat, simulated_estate
from bot.demo_scripts import SCENARIOS
from bot.environment import patched_environ
from workers.scripted_claude import ScriptedClaude
from workers.settings import Settings


def run_demo(settings: Settings, scenarios: list[str], assume_yes: bool | None, console: Console) -> list[ChatResult]:
    console.print("[bold magenta]Demo mode:[/bold magenta] Claude's turns are scripted (recorded tool-use turns "
                  "replayed by a local stand-in); no API key is used. AWS is simulated by moto.")
    results = []
    with simulated_estate(settings, console) as demo_settings:
        for name in scenarios:
            scenario = SCENARIOS[name]
            with ScriptedClaude(scenario.turns()) as claude:
                env = {"ANTHROPIC_BASE_URL": claude.base_url, "ANTHROPIC_API_KEY": "scripted-demo"}
                with patched_environ(env):
                    console.rule(f"[bold]{scenario.request}")
                    results.append(run_chat(scenario.request, demo_settings, assume_yes=assume_yes, console=console))
    return results
