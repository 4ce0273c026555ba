"""The `auditbot` command: processes (web, socket, worker), the terminal chat, the demo, the registry."""

from __future__ import annotations

import argparse
import logging
import sys

from rich.console import Console
from rich.table import Table

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


def cmd_tools(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import redis_connection
    from workers.registry import DecisionRefused, Registry

    console = Console()
    registry = Registry(redis_connection(settings), settings.auditbot_data_dir)
    registry.sync_builtins()
    try:
        if args.tools_command == "list":
            table = Table("tool", "running", "latest", "approver", "description")
            for name in registry.names():
                current, latest = registry.current(name), registry.latest(name)
                description = (latest.source.split('"""')[1].strip().splitlines() or [""])[0] if latest else ""
                table.add_row(name, f"v{current.version}" if current else "-",
                              f"v{latest.version} {latest.status}" if latest else "-",
                              current.approver if current else "-", description[:60])
            console.print(table)
        elif args.tools_command == "show":
            version = registry.get(args.name, args.version) if args.version else (
                registry.current(args.name) or registry.latest(args.name))
            if version is None:
                raise DecisionRefused(f"no tool named {args.name!r}")
            console.print(f"# {version.name} v{version.version} {version.status} sha256 {version.sha256}")
            console.print(version.source, markup=False, highlight=False)
        elif args.tools_command == "history":
            table = Table("version", "status", "sha256", "parent", "requested by", "approver", "decided", "note")
            for v in registry.history(args.name):
                table.add_row(str(v.version), v.status, v.sha256[:12], str(v.parent or "-"),
                              str(v.requested_by.get("user", "-")), v.approver or "-", v.decided_at or "-", v.note[:50])
            console.print(table)
        elif args.tools_command == "approve":
            from bot.cli_identity import operator

            v = registry.decide(args.name, args.version, approve=True, by=operator())
            console.print(f"{v.name} v{v.version} approved by {v.approver}")
        elif args.tools_command == "rollback":
            v = registry.rollback(args.name, args.version)
            console.print(f"{v.name} now runs v{v.version}")
    except DecisionRefused as exc:
        print(f"auditbot: {exc}", file=sys.stderr)
        return 1
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
    tools = sub.add_parser("tools", help="the tool registry")
    tsub = tools.add_subparsers(dest="tools_command", required=True)
    tsub.add_parser("list")
    for name in ("show", "history"):
        p = tsub.add_parser(name)
        p.add_argument("name")
        if name == "show":
            p.add_argument("version", nargs="?", type=int)
    for name in ("approve", "rollback"):
        p = tsub.add_parser(name)
        p.add_argument("name")
        p.add_argument("version", type=int)
    tools.set_defaults(func=cmd_tools)
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
