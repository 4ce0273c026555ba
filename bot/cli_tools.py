"""`auditbot tools ...`: the registry from the terminal (list, show, history, approve, rollback,
import, retire, unretire). Decisions made here are recorded as `terminal:<user>`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.cli_identity import operator
from workers.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    tools = sub.add_parser("tools", help="the tool registry")
    tsub = tools.add_subparsers(dest="tools_command", required=True)
    tsub.add_parser("list", help="every tool: running version, approver, usage")
    for name, needs_version in (("show", "?"), ("history", None), ("approve", 1), ("rollback", 1),
                                ("retire", None), ("unretire", None)):
        p = tsub.add_parser(name)
        p.add_argument("name")
        if needs_version == "?":
            p.add_argument("version", nargs="?", type=int)
        elif needs_version:
            p.add_argument("version", type=int)
    imported = tsub.add_parser("import", help="register a reviewed module file as a new pending version")
    imported.add_argument("path", type=Path)
    imported.add_argument("--name", help="tool name (default: the file's name)")
    tools.set_defaults(func=run)


def when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M") if epoch else "-"


def run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services import redis_connection
    from workers.registry import DecisionRefused, Registry
    from workers.tool_usage import ToolUsage

    console = Console()
    conn = redis_connection(settings)
    registry = Registry(conn, settings.auditbot_data_dir)
    registry.sync_builtins()
    usage = ToolUsage(conn)
    command = args.tools_command
    try:
        if command == "list":
            table = Table("tool", "running", "latest", "approver", "uses", "fail %", "last use", "state")
            for name in registry.names():
                current, latest, used = registry.current(name), registry.latest(name), usage.usage(name)
                created = datetime.fromisoformat((latest or current).created_at).timestamp()
                state = "retired" if usage.retired(name) else "stale" if usage.is_stale(name, created) else "active"
                table.add_row(name, f"v{current.version}" if current else "-",
                              f"v{latest.version} {latest.status}" if latest else "-",
                              current.approver if current else "-", str(used.uses),
                              f"{used.failure_rate:.0%}" if used.uses else "-", when(used.last_use), state)
            console.print(table)
        elif command == "show":
            version = registry.get(args.name, args.version) if args.version else (
                registry.current(args.name) or registry.latest(args.name))
            if version is None:
                raise DecisionRefused(f"no tool named {args.name!r}")
            console.print(f"# {version.name} v{version.version} {version.status} sha256 {version.sha256}")
            console.print(version.source, markup=False, highlight=False)
        elif command == "history":
            table = Table("version", "status", "sha256", "parent", "requested by", "approver", "decided", "note")
            for v in registry.history(args.name):
                table.add_row(str(v.version), v.status, v.sha256[:12], str(v.parent or "-"),
                              str(v.requested_by.get("user", "-")), v.approver or "-", v.decided_at or "-", v.note[:60])
            console.print(table)
            for entry in usage.lifecycle(args.name):
                console.print(f"{entry['action']} by {entry['by']} at {when(entry['at'])}")
        elif command == "approve":
            v = registry.decide(args.name, args.version, approve=True, by=operator())
            console.print(f"{v.name} v{v.version} approved by {v.approver}")
        elif command == "rollback":
            v = registry.rollback(args.name, args.version)
            console.print(f"{v.name} now runs v{v.version}")
        elif command in ("retire", "unretire"):
            if not registry.exists(args.name):
                raise DecisionRefused(f"no tool named {args.name!r}")
            (usage.retire if command == "retire" else usage.unretire)(args.name, operator())
            console.print(f"{args.name} {command}d; it is {'no longer' if command == 'retire' else 'again'} offered")
        elif command == "import":
            return import_file(settings, registry, args.path, args.name, console)
    except DecisionRefused as exc:
        print(f"auditbot: {exc}", file=sys.stderr)
        return 1
    return 0


def import_file(settings: Settings, registry, path: Path, name: str | None, console: Console) -> int:
    """Through the same checks and selftest as generated code; it runs only once approved."""
    from workers.selftest import Selftester
    from workers.toolsmith import Toolsmith

    if not path.is_file():
        print(f"auditbot: {path} is not a file", file=sys.stderr)
        return 1
    name = name or path.stem
    source = path.read_text(encoding="utf-8")
    smith = Toolsmith(registry, Selftester(registry, settings.auditbot_console_url),
                      requested_by={"user": operator(), "imported_from": str(path)})
    current = registry.current(name)
    result = smith.write_version(name, source, parent=current.version if current else None,
                                 note=f"imported from {path}")
    console.print(result.text, markup=False, highlight=False)
    if result.is_error:
        return 1
    console.print(f"Approve with: auditbot tools approve {name} {result.version.version}")
    return 0
