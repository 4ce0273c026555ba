"""The `auditbot` command: processes (web, socket, worker), the terminal chat, the demo, the registry."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rich.console import Console

from bot.cli_evidence import add_parser as add_evidence_parser
from bot.cli_tools import add_parser as add_tools_parser
from workers.settings import ConfigError, Settings, load_settings, require


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from bot.web import serve

    require(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    serve(settings, host=args.host)
    return 0


def cmd_socket(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.intake import Intake
    from bot.services import redis_connection
    from bot.slack_app import build_slack_app
    from workers.approvals import ApprovalDesk
    from workers.registry import Registry

    require(settings, "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    conn = redis_connection(settings)
    app = build_slack_app(settings, Intake(conn), ApprovalDesk(conn, Registry(conn, settings.auditbot_data_dir),
                                                               settings))
    handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())  # type: ignore[union-attr]
    asyncio.run(handler.start_async())
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from rq import Worker

    from bot.queueing import queue
    from bot.services import redis_connection

    conn = redis_connection(settings)
    worker = Worker([queue(conn)], connection=conn)
    worker.work(burst=args.burst, with_scheduler=True, logging_level="INFO")
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.chat import run_chat, simulated_estate

    console = Console()
    if args.simulated_aws:
        with simulated_estate(settings, console) as local:
            result = run_chat(args.request, local, assume_yes=args.yes, console=console)
    else:
        result = run_chat(args.request, settings, assume_yes=args.yes, console=console)
    return 0 if result.outcome == "done" else 1


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo
    from bot.demo_scripts import SCENARIOS

    names = args.scenario or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"auditbot: unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    results = run_demo(settings, names, args.yes, Console())
    return 0 if all(r.outcome == "done" for r in results) else 1


def cmd_teams(settings: Settings, args: argparse.Namespace) -> int:
    from bot.teams_package import write_package

    print(f"Teams app package written to {write_package(settings, args.out)}; sideload it as docs/teams.md shows.")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="auditbot", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    web = sub.add_parser("web", help="serve Slack (and Teams) over HTTP on $PORT")
    web.add_argument("--host", default="0.0.0.0")
    web.set_defaults(func=cmd_web)
    sub.add_parser("socket", help="serve Slack over Socket Mode").set_defaults(func=cmd_socket)
    worker = sub.add_parser("worker", help="run an RQ worker for agent jobs")
    worker.add_argument("--burst", action="store_true", help="drain the queue and exit")
    worker.set_defaults(func=cmd_worker)
    chat = sub.add_parser("chat", help="one request in the terminal")
    chat.add_argument("request")
    chat.add_argument("--simulated-aws", action="store_true", help="moto with demo data instead of real AWS")
    decision = chat.add_mutually_exclusive_group()
    decision.add_argument("--yes", action="store_true", default=None, help="approve new code without asking")
    decision.add_argument("--no", dest="yes", action="store_false", help="reject new code without asking")
    chat.set_defaults(func=cmd_chat)
    demo = sub.add_parser("demo", help="offline end-to-end run with scripted Claude turns and simulated AWS")
    demo.add_argument("scenario", nargs="*", help="scenario names (default: all)")
    demo.add_argument("--yes", action="store_true", default=None, help="approve new code without asking")
    demo.set_defaults(func=cmd_demo)
    add_tools_parser(sub)
    teams = sub.add_parser("teams", help="the Teams app").add_subparsers(dest="teams_command", required=True)
    package = teams.add_parser("package", help="write the Teams app package (zip) for sideloading")
    package.add_argument("--out", type=Path, default=Path("auditbot-teams.zip"))
    package.set_defaults(func=cmd_teams)
    add_evidence_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        return args.func(settings, args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
