"""Claude round trips and tokens per seed scenario, first time (a tool is written) and on repeat.

Runs each scenario through the real agent, registry, sandbox and simulated AWS with Claude's recorded
turns replayed at the wire, and reads what reached the Messages API: request count, body size, the
stand-in's token estimate (bytes/4, split into cached and uncached as the API reports them), and
whether every request carried `cache_control` on the system prompt and the tool block.
Goal: at most 4 round trips for a new tool, at most 2 on repeat.

    .venv/bin/python bench/llm_economy.py
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

import fakeredis
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.chat import run_chat, simulated_estate  # noqa: E402
from bot.demo_scripts import SCENARIOS  # noqa: E402
from bot.environment import patched_environ  # noqa: E402
from workers.scripted_claude import ScriptedClaude  # noqa: E402
from workers.settings import load_settings  # noqa: E402

SEEDS = ["cloudwatch-logs", "dynamodb-screenshot", "rds-compare"]


def measure(scenario: str, settings, conn) -> dict:
    with ScriptedClaude(SCENARIOS[scenario].turns()) as claude, patched_environ(
            {"ANTHROPIC_BASE_URL": claude.base_url, "ANTHROPIC_API_KEY": "bench"}):
        result = run_chat(SCENARIOS[scenario].request, settings, assume_yes=True,
                          console=Console(file=io.StringIO()), conn=conn)
        bodies = [r["body"] for r in claude.requests]
    cached = all(b["system"][0].get("cache_control") and b["tools"][-1].get("cache_control") for b in bodies)
    return {"outcome": result.outcome, "round_trips": len(bodies), "input_tokens": result.job.input_tokens,
            "output_tokens": result.job.output_tokens, "cache_control": cached,
            "tools_written": sum(1 for b in bodies[-1]["messages"] for c in (b["content"] if isinstance(
                b["content"], list) else []) if c.get("type") == "tool_use" and c["name"] in (
                "generate_new_tool", "add_functionality_to_tool"))}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        settings = load_settings(auditbot_evidence_dir=Path(scratch) / "evidence",
                                 auditbot_data_dir=Path(scratch) / "data")
        conn = fakeredis.FakeRedis()
        with simulated_estate(settings, Console(file=io.StringIO())) as local:
            rows = []
            for name in SEEDS:
                rows.append((name, "first", measure(name, local, conn)))
                rows.append((name, "repeat", measure(name, local, conn)))
    print(f"{'scenario':<22}{'run':<8}{'outcome':<9}{'trips':>6}{'in tok':>9}{'out tok':>9}"
          f"{'written':>9}{'cache_control':>15}")
    for name, run, m in rows:
        print(f"{name:<22}{run:<8}{m['outcome']:<9}{m['round_trips']:>6}{m['input_tokens']:>9}"
              f"{m['output_tokens']:>9}{m['tools_written']:>9}{str(m['cache_control']):>15}")
    first = max(m["round_trips"] for _, run, m in rows if run == "first")
    repeat = max(m["round_trips"] for _, run, m in rows if run == "repeat")
    print(f"max round trips: new tool {first} (goal <= 4), repeat {repeat} (goal <= 2); "
          "tokens are the stand-in's estimate (request bytes / 4)")


if __name__ == "__main__":
    main()
