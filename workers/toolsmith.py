"""The agent's own tools: search, read, write and test tool code.

Every tool that writes code makes a new registry version and answers, in the same call, with the
static-check report and (when the checks pass and the module has a `selftest`) the selftest result,
so one round trip writes and checks. Nothing here runs code for real: selftests run in the sandbox
against simulated AWS.
"""

from __future__ import annotations

import json
import pprint
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workers import code_edits
from workers.registry import Registry, ToolVersion
from workers.static_checks import check_source
from workers.tool_catalog import Candidate, ToolCatalog
from workers.tool_contract import TOOL_NAME_RE

MAX_SNIPPETS = 10
SKELETON_MARK = "NotImplementedError('TODO: "
JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object"}


@dataclass
class SmithResult:
    """What goes back to Claude, and the version written (if any)."""

    text: str
    is_error: bool = False
    version: ToolVersion | None = None


class SmithError(Exception):
    """A request the toolsmith refuses; the message goes back to Claude as an error result."""


SelftestRunner = Callable[[ToolVersion], dict[str, Any]]


class Toolsmith:
    """Implements the seven agent tools of the contract against the registry."""

    def __init__(self, registry: Registry, selftest: SelftestRunner, requested_by: dict[str, Any],
                 catalog: ToolCatalog | None = None) -> None:
        self.registry = registry
        self.selftest = selftest
        self.requested_by = requested_by
        self.catalog = catalog

    def handle(self, name: str, args: dict[str, Any]) -> SmithResult:
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return SmithResult(f"unknown agent tool {name!r}", is_error=True)
        try:
            return handler(**args)
        except (SmithError, code_edits.EditError) as exc:
            return SmithResult(str(exc), is_error=True)
        except TypeError as exc:
            return SmithResult(f"bad arguments for {name}: {exc}", is_error=True)

    # --- reading -------------------------------------------------------------------------
    def _search_implementation_examples(self, pattern: str, context: str | int | None = None) -> SmithResult:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise SmithError(f"pattern is not a valid regular expression: {exc}") from None
        around = int(context) if str(context or "").strip().isdigit() else 3
        snippets = []
        for version in self._newest_versions():
            lines = version.source.splitlines()
            for number, line in enumerate(lines, start=1):
                if regex.search(line):
                    lo, hi = max(0, number - 1 - around), min(len(lines), number + around)
                    snippets.append({"tool": version.name, "version": version.version, "line": number,
                                     "code": "\n".join(lines[lo:hi])})
                    if len(snippets) == MAX_SNIPPETS:
                        return SmithResult(json.dumps(snippets, indent=1))
        if not snippets:
            return SmithResult(f"no tool source matches {pattern!r}")
        return SmithResult(json.dumps(snippets, indent=1))

    def _read_tool_source(self, tool_name: str, section: str | None = None) -> SmithResult:
        version = self._newest(tool_name)
        text = code_edits.function_source(version.source, section) if section else version.source
        return SmithResult(f"# {tool_name} v{version.version} ({version.status})\n{text}")

    # --- writing -------------------------------------------------------------------------
    def _generate_new_tool(
        self, tool_name: str, description: str, parameters: list[dict[str, Any]], functionality: str,
        aws_services: list[str] | None = None, libraries_needed: list[str] | None = None, code: str | None = None,
        confirm_new: bool = False, reason: str | None = None,
    ) -> SmithResult:
        if not TOOL_NAME_RE.fullmatch(tool_name):
            raise SmithError(f"tool_name {tool_name!r} must be snake_case (letters, digits, underscores)")
        if self.registry.exists(tool_name):
            raise SmithError(f"a tool named {tool_name!r} already exists; use add_functionality_to_tool or "
                             "fix_tool_code to change it, or pick another name")
        neighbours = self.catalog.neighbours(tool_name, description) if self.catalog else []
        if neighbours and not (confirm_new and (reason or "").strip()):
            return SmithResult(near_duplicates_text(tool_name, neighbours), is_error=True)
        source = code if code else skeleton(tool_name, description, parameters, functionality)
        note = f"new tool: {functionality}"
        if aws_services:
            note += f" (AWS: {', '.join(aws_services)})"
        if neighbours:
            note += f"\nNew despite similar tools ({', '.join(c.name for c in neighbours)}): {reason}"
        return self.write_version(tool_name, source, parent=None, note=note)

    def _add_functionality_to_tool(
        self, existing_tool: str, new_functionality: str, code_to_add: str, insertion_point: str | None = None,
    ) -> SmithResult:
        base = self._newest(existing_tool)
        source = code_edits.add_code(base.source, code_to_add, insertion_point)
        return self.write_version(existing_tool, source, parent=base.version, note=f"added: {new_functionality}")

    def _implement_missing_function(self, tool_name: str, function_name: str, implementation: str) -> SmithResult:
        base = self._newest(tool_name)
        source = code_edits.replace_definition(base.source, function_name, implementation)
        return self.write_version(tool_name, source, parent=base.version, note=f"implemented {function_name}")

    def _fix_tool_code(self, tool_name: str, old_code: str, new_code: str) -> SmithResult:
        base = self._newest(tool_name)
        source = code_edits.replace_exact(base.source, old_code, new_code)
        return self.write_version(tool_name, source, parent=base.version, note="fix")

    def _test_tool(self, tool_name: str) -> SmithResult:
        version = self._newest(tool_name)
        version.checks = checks_dict(tool_name, version.source)
        if not version.checks["blocking"] and "def selftest" in version.source:
            version.selftest = self.selftest(version)
        self.registry.update(version)
        return SmithResult(report_text(version), is_error=not passed(version), version=version)

    def write_version(self, name: str, source: str, *, parent: int | None, note: str) -> SmithResult:
        """Store a version, check it, selftest it when the checks pass: one call, one report."""
        checks = checks_dict(name, source)
        version = self.registry.add_version(name, source, parent=parent, note=note,
                                            requested_by=self.requested_by, checks=checks)
        if not checks["blocking"] and "def selftest" in source:
            version.selftest = self.selftest(version)
            self.registry.update(version)
        return SmithResult(report_text(version), is_error=checks["blocking"], version=version)

    # --- helpers -------------------------------------------------------------------------
    def _newest(self, name: str) -> ToolVersion:
        """The newest version that is not rejected: what the agent builds on."""
        for version in reversed(self.registry.history(name)):
            if version.status != "rejected":
                return version
        raise SmithError(f"no tool named {name!r}; known tools: {', '.join(self.registry.names())}")

    def _newest_versions(self) -> list[ToolVersion]:
        found = []
        for name in self.registry.names():
            try:
                found.append(self._newest(name))
            except SmithError:
                continue
        return found


def passed(version: ToolVersion) -> bool:
    return not version.checks.get("blocking") and (version.selftest is None or bool(version.selftest.get("ok")))


def approvable(version: ToolVersion) -> bool:
    """A card is worth a human's time only for code that passed its checks and its selftest."""
    return version.status == "pending" and passed(version) and SKELETON_MARK not in version.source


def checks_dict(name: str, source: str) -> dict[str, Any]:
    report = check_source(name, source)
    findings = [{"line": f.line, "code": f.code, "message": f.message, "blocking": f.blocking,
                 "line_text": f"L{f.line}: {f.code} {f.message}" + (" (blocking)" if f.blocking else "")}
                for f in report.findings]
    return {"blocking": report.blocking, "findings": findings, "sha256": report.sha256}


def report_text(version: ToolVersion) -> str:
    """The report Claude reads after writing or testing a version."""
    lines = [f"{version.name} v{version.version} ({version.status}), sha256 {version.sha256[:12]}"]
    findings = version.checks.get("findings", [])
    if version.checks.get("blocking"):
        lines.append("Static checks: BLOCKING findings; this version can never be approved. Fix them:")
    else:
        lines.append("Static checks: passed" + (" with warnings:" if findings else "."))
    lines += [f"  {f['line_text']}" for f in findings]
    if version.selftest is not None:
        if version.selftest.get("ok"):
            lines.append(f"Selftest: passed against simulated AWS ({version.selftest.get('calls', 0)} AWS calls).")
        else:
            lines.append("Selftest: FAILED:\n" + str(version.selftest.get("error", "")))
    elif not version.checks.get("blocking"):
        lines.append("Selftest: none (add selftest(ctx) so the approver sees the code work).")
    if SKELETON_MARK in version.source:
        lines.append("This is a skeleton: implement run with implement_missing_function.")
    elif passed(version) and version.status == "pending":
        lines.append(f"Ready for approval. Call {version.name} to run it; the request waits for a human decision.")
    return "\n".join(lines)


def near_duplicates_text(name: str, neighbours: list[Candidate]) -> str:
    rows = "\n".join(f"- {c.name}({', '.join(c.to_dict()['parameters'])}): {c.description}" for c in neighbours)
    return (f"Not created: {name!r} looks like existing tools:\n{rows}\n"
            "Prefer calling one of them, or add_functionality_to_tool to add a parameter. If none can serve, call "
            "generate_new_tool again with confirm_new: true and a reason; the approver will see both.")


def skeleton(name: str, description: str, parameters: list[dict[str, Any]], functionality: str) -> str:
    """A module in the contract's form whose `run` is a TODO, for the skeleton-then-fill path."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in parameters:
        pname = str(param.get("name", ""))
        if not pname.isidentifier():
            raise SmithError(f"parameter name {pname!r} is not a valid identifier")
        ptype = param.get("type", "string") if param.get("type") in JSON_TYPES else "string"
        properties[pname] = {"type": ptype, "description": param.get("description", "")}
        if param.get("required"):
            required.append(pname)
    optional = [p for p in properties if p not in required]
    signature = ["ctx", *required, *(f"{p}=None" for p in optional)]
    schema = {"type": "object", "properties": properties, "required": required}
    summary = description.strip().splitlines()[0] if description.strip() else name
    todo = functionality.strip().splitlines()[0][:80] if functionality.strip() else name
    return (
        f'"""{summary}\n\n{functionality.strip()}\n"""\n\n'
        f"PARAMETERS = {pprint.pformat(schema, sort_dicts=False)}\n\n\n"
        f"def run({', '.join(signature)}):\n"
        f"    raise NotImplementedError({('TODO: ' + todo)!r})\n"
    )
