"""The shape every tool module must have, checked from its source without running it.

Like Prowler refusing a check whose id and file disagree, a tool whose name, description,
`PARAMETERS` and `run` signature disagree is refused at load, so what Claude is offered
(`ToolSpec.to_claude_tool`) is exactly what `run` accepts. Everything here reads the source
with `ast`; nothing is imported or executed, because the same check guards generated code.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import keyword
import re
import sys
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from workers.agent_tools import AGENT_TOOL_NAMES

TOOL_NAME_RE = re.compile(r"(?=[a-z0-9_]{3,64}\Z)[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
"""snake_case, 3..64 characters, starting with a letter; use with `fullmatch`."""



class ContractError(ValueError):
    """The first way a tool module breaks the contract, with the line to look at."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class ToolSpec:
    """What the registry and the agent need to know about a tool, read from its source."""

    name: str
    description: str
    parameters: dict
    source_sha256: str

    def to_claude_tool(self) -> dict:
        """The tool definition for the Messages API; a copy, so callers cannot alter the spec."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": copy.deepcopy(self.parameters),
        }


def source_sha256(source: str) -> str:
    """The identity of a tool version's source text (surrogates kept, so any str hashes)."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def spec_from_source(name: str, source: str) -> ToolSpec:
    """Validate `source` as the module `name` and return its spec, or raise `ContractError`."""
    _check_name(name)
    try:
        tree = ast.parse(source, filename=f"{name}.py")
    except SyntaxError as exc:
        raise ContractError(f"syntax error: {exc.msg}", exc.lineno or 1) from None
    description = _description(tree)
    params_node = _single_binding(tree, "PARAMETERS")
    parameters = _parameters(params_node)
    run = _single_binding(tree, "run")
    _check_run(run, parameters)
    if _bindings(tree, "selftest"):
        _check_selftest(_single_binding(tree, "selftest"))
    return ToolSpec(name, description, parameters, source_sha256(source))


def _check_name(name: str) -> None:
    if not TOOL_NAME_RE.fullmatch(name):
        raise ContractError(f"tool name {name!r} is not snake_case of 3 to 64 characters", 1)
    if keyword.iskeyword(name) or name in sys.stdlib_module_names:
        raise ContractError(f"tool name {name!r} is a Python keyword or standard module; choose another", 1)
    if name in AGENT_TOOL_NAMES:
        raise ContractError(f"tool name {name!r} is one of the agent's own tools", 1)


def _description(tree: ast.Module) -> str:
    docstring = ast.get_docstring(tree)
    first_line = docstring.strip().splitlines()[0].strip() if docstring and docstring.strip() else ""
    if not first_line:
        raise ContractError("the module docstring is missing; its first line is the tool's description", 1)
    return first_line


def _bindings(tree: ast.Module, name: str) -> list[ast.stmt]:
    """Top-level statements that bind `name`; the last one is what the module ends up with."""
    return [stmt for stmt in tree.body if name in _bound_names(stmt)]


def _bound_names(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [stmt.name]
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return [(alias.asname or alias.name).split(".")[0] for alias in stmt.names]
    targets = stmt.targets if isinstance(stmt, ast.Assign) else []
    if isinstance(stmt, ast.AnnAssign | ast.AugAssign):
        targets = [stmt.target]
    return [node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)]


def _single_binding(tree: ast.Module, name: str) -> ast.stmt:
    found = _bindings(tree, name)
    if not found:
        raise ContractError(f"{name} is missing at the top level of the module", 1)
    if len(found) > 1:
        raise ContractError(f"{name} is defined more than once", found[1].lineno)
    return found[0]


def _parameters(stmt: ast.stmt) -> dict:
    value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
    if value is None or isinstance(stmt, ast.Assign) and len(stmt.targets) != 1:
        raise ContractError("PARAMETERS must be assigned a dict literal: PARAMETERS = {...}", stmt.lineno)
    try:
        schema = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ContractError("PARAMETERS must be a literal dict (no names, calls or expressions)",
                            value.lineno) from None
    if not isinstance(schema, dict):
        raise ContractError("PARAMETERS must be a dict", value.lineno)
    if not _is_plain_json(schema):
        raise ContractError("PARAMETERS may hold only JSON values: str keys, lists (not tuples or sets)",
                            value.lineno)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "top level"
        raise ContractError(f"PARAMETERS is not a valid JSON Schema at {where}: {exc.message}",
                            _line_at(value, exc.path)) from None
    _check_object_schema(schema, value)
    return schema


def _is_plain_json(value: Any) -> bool:
    """True when a JSON round trip gives the same value back (tuples, sets, int keys, NaN do not)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False)) == value
    except (TypeError, ValueError):
        return False


def _line_at(node: ast.expr, path: Any) -> int:
    """The line of the literal at a JSON path inside a dict/list literal, for pointed messages."""
    for part in path:
        if isinstance(node, ast.Dict):
            match = [v for k, v in zip(node.keys, node.values, strict=True)
                     if isinstance(k, ast.Constant) and k.value == part]
            if not match:
                break
            node = match[0]
        elif isinstance(node, ast.List | ast.Tuple) and isinstance(part, int) and part < len(node.elts):
            node = node.elts[part]
        else:
            break
    return node.lineno


def _check_object_schema(schema: dict, node: ast.expr) -> None:
    if schema.get("type") != "object":
        raise ContractError('PARAMETERS must have "type": "object"', _line_at(node, ["type"]))
    properties = schema.get("properties", {})
    for prop, prop_schema in properties.items():
        line = _line_at(node, ["properties", prop])
        if not prop.isidentifier() or keyword.iskeyword(prop) or prop == "ctx":
            raise ContractError(f"property {prop!r} cannot be a parameter of run", line)
        if not isinstance(prop_schema, dict):
            raise ContractError(f"property {prop!r} must be described by an object", line)
    for prop in schema.get("required", []):
        if prop not in properties:
            raise ContractError(f"required property {prop!r} is not in properties",
                                _line_at(node, ["required"]))
        if "default" in properties[prop]:
            raise ContractError(f"required property {prop!r} must not have a default",
                                _line_at(node, ["properties", prop, "default"]))


def _check_run(stmt: ast.stmt, schema: dict) -> None:
    func = _plain_function(stmt, "run")
    args = func.args
    positional = args.posonlyargs + args.args
    if not positional or positional[0].arg != "ctx":
        raise ContractError("run must take ctx as its first parameter", func.lineno)
    if args.vararg or args.kwarg:
        raise ContractError("run must list its parameters; *args and **kwargs are not allowed",
                            (args.vararg or args.kwarg).lineno)
    if len(args.posonlyargs) > 1:
        raise ContractError("only ctx may be positional-only: arguments are passed by name", func.lineno)
    defaults = _defaults(args)
    if "ctx" in defaults:
        raise ContractError("ctx must not have a default", positional[0].lineno)
    params = {a.arg: a for a in positional[1:] + args.kwonlyargs}
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    for param, node in params.items():
        if param not in properties:
            raise ContractError(f"run parameter {param!r} is not a property in PARAMETERS", node.lineno)
    for prop, prop_schema in properties.items():
        if prop not in params:
            raise ContractError(f"PARAMETERS property {prop!r} is not a parameter of run", func.lineno)
        _check_default(prop, prop_schema, prop in required, defaults.get(prop), params[prop])


def _check_default(
    prop: str, prop_schema: dict, required: bool, default: ast.expr | None, arg: ast.arg
) -> None:
    if required and default is not None:
        raise ContractError(f"run parameter {prop!r} is required in PARAMETERS: it must not have a default",
                            arg.lineno)
    if not required and default is None:
        raise ContractError(f"run parameter {prop!r} is optional in PARAMETERS, so it needs a default",
                            arg.lineno)
    if default is None or "default" not in prop_schema:
        return
    try:
        value = ast.literal_eval(default)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return  # a named constant: nothing to compare without running the module
    if value != prop_schema["default"]:
        raise ContractError(f"run's default for {prop!r} ({value!r}) differs from PARAMETERS' "
                            f"({prop_schema['default']!r})", default.lineno)


def _defaults(args: ast.arguments) -> dict[str, ast.expr]:
    positional = args.posonlyargs + args.args
    with_default = positional[len(positional) - len(args.defaults):]
    named = dict(zip([a.arg for a in with_default], args.defaults, strict=True))
    named.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None})
    return named


def _check_selftest(stmt: ast.stmt) -> None:
    args = _plain_function(stmt, "selftest").args
    params = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if params != ["ctx"] or args.vararg or args.kwarg or args.defaults or args.kw_defaults:
        raise ContractError("selftest must take exactly one parameter, ctx", stmt.lineno)


def _plain_function(stmt: ast.stmt, name: str) -> ast.FunctionDef:
    """`run` and `selftest` must be ordinary functions, so their signature is what gets called."""
    if isinstance(stmt, ast.AsyncFunctionDef):
        raise ContractError(f"{name} must be a plain function, not async", stmt.lineno)
    if not isinstance(stmt, ast.FunctionDef):
        raise ContractError(f"{name} must be defined with def at the top level", stmt.lineno)
    if stmt.decorator_list:
        raise ContractError(f"{name} must not be decorated; a decorator can change its signature",
                            stmt.decorator_list[0].lineno)
    return stmt
