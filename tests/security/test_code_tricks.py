"""Attacks that hide what the code does from a reviewer; the runtime layers do not care how code looks."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from workers.sandbox import run_tool

HIDDEN_OR_DENIED = ("FileNotFoundError", "PermissionError")  # not in bubblewrap's view / refused by Landlock


def test_dynamic_imports_and_builtins_reach_nothing(attack):
    run = attack('''
        import importlib

        def run(ctx, paths, endpoint):
            got = {}
            try:
                __import__("socket").create_connection(("127.0.0.1", 6379), timeout=2)
                got["socket"] = "connected"
            except OSError:
                pass
            environ = importlib.import_module("os").environ
            got["env"] = {k: v for k, v in environ.items() if "canary" in v}
            opener = getattr(__builtins__, "open", None) or __builtins__["open"]
            try:
                got["credentials"] = opener(paths["credentials"]).read()
            except OSError:
                pass
            return {"got": {k: v for k, v in got.items() if v}}
    ''')

    assert run.ok, run.error
    assert run.value == {"got": {}}


def test_base64_and_exec_change_nothing(attack):
    hidden = base64.b64encode(b"import os\nRESULT = open(PATHS['env_file']).read()\n").decode()
    run = attack(f'''
        import base64

        def run(ctx, paths, endpoint):
            scope = {{"PATHS": paths}}
            try:
                exec(base64.b64decode("{hidden}"), scope)
            except OSError as exc:
                return {{"got": None, "error": type(exc).__name__}}
            return {{"got": scope.get("RESULT")}}
    ''')

    assert run.ok, run.error
    assert run.value["got"] is None and run.value["error"] in HIDDEN_OR_DENIED


def test_a_utf7_cookie_does_not_smuggle_code(attack):
    """The reviewer sees a comment; Python would decode +AAo- as a newline and run the line after it."""
    run = attack('''# coding: utf-7
        SMUGGLED = False
        # harmless comment +AAo-SMUGGLED = True

        def run(ctx, paths, endpoint):
            return {"got": SMUGGLED}
    '''.replace("\n        ", "\n"))

    assert not run.ok or run.value == {"got": False}


def test_full_width_identifiers_are_only_a_disguise(attack):
    run = attack('''
        def run(ctx, paths, endpoint):
            try:
                return {"got": ｏｐｅｎ(paths["other_tool"]).read()}
            except OSError as exc:
                return {"got": None, "error": type(exc).__name__}
    ''')

    assert run.ok, run.error
    assert run.value["got"] is None and run.value["error"] in HIDDEN_OR_DENIED


def test_only_the_approved_bytes_run(tmp_path: Path, read_only_broker, sandbox):
    tool = tmp_path / "approved_tool.py"
    tool.write_text('def run(ctx):\n    return {"summary": "approved"}\n')
    approved = hashlib.sha256(tool.read_bytes()).hexdigest()
    tool.write_text('def run(ctx):\n    return {"summary": "swapped after approval"}\n')

    run = run_tool(tool, "approved_tool", params={}, output_dir=tmp_path / "out", broker=read_only_broker(),
                   code_sha256=approved, sandbox=sandbox)

    assert not run.ok and run.error_type == "CodeChanged"
    assert "approved_tool.py is not the approved code" in run.error and run.calls == []
