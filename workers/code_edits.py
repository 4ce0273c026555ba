"""Source edits the toolsmith makes: replace a function, add code, one exact replacement.

All edits work on text guided by `ast` positions, so comments and formatting outside the edited
function survive and the diff a reviewer sees is the change and nothing else.
"""

from __future__ import annotations

import ast


class EditError(ValueError):
    """An edit that cannot be applied as asked; the message tells the agent what to do instead."""


def _top_level_defs(tree: ast.Module) -> dict[str, ast.stmt]:
    defs: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defs[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            defs[node.targets[0].id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defs[node.target.id] = node
    return defs


def _span(node: ast.stmt) -> tuple[int, int]:
    """First and last line (1-based, inclusive) of a definition, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return first, node.end_lineno or node.lineno


def _parse(source: str, what: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise EditError(f"{what} does not parse: line {exc.lineno}: {exc.msg}") from None


def replace_definition(source: str, name: str, new_code: str) -> str:
    """Replace the top-level definition `name` with `new_code`."""
    tree = _parse(source, "the tool")
    node = _top_level_defs(tree).get(name)
    if node is None:
        raise EditError(f"no top-level definition named {name!r}; read_tool_source shows what exists")
    first, last = _span(node)
    lines = source.splitlines()
    return "\n".join(lines[: first - 1] + new_code.strip("\n").splitlines() + lines[last:]) + "\n"


def add_code(source: str, code: str, insertion_point: str | None = None) -> str:
    """Add definitions; one that shares a name with an existing definition replaces it."""
    added = _parse(code, "code_to_add")
    existing = _top_level_defs(_parse(source, "the tool"))
    remaining: list[str] = []
    code_lines = code.strip("\n").splitlines()
    for node in added.body:
        first, last = _span(node)
        chunk = "\n".join(code_lines[first - 1 : last])
        name = _top_level_defs(ast.Module(body=[node], type_ignores=[])).keys()
        target = next(iter(name), None)
        if target and target in existing:
            source = replace_definition(source, target, chunk)
            existing = _top_level_defs(_parse(source, "the tool"))
        else:
            remaining.append(chunk)
    if not remaining:
        return source
    block = "\n\n\n".join(remaining)
    lines = source.rstrip("\n").splitlines()
    if insertion_point:
        node = existing.get(insertion_point)
        if node is None:
            raise EditError(f"insertion_point {insertion_point!r} is not a top-level definition of the tool")
        _, last = _span(node)
        return "\n".join(lines[:last] + ["", "", block] + lines[last:]) + "\n"
    return "\n".join(lines + ["", "", block]) + "\n"


def replace_exact(source: str, old: str, new: str) -> str:
    """One exact, unique replacement, as `fix_tool_code` promises."""
    if not old:
        raise EditError("old_code is empty")
    count = source.count(old)
    if count == 0:
        raise EditError("old_code was not found in the newest version; read_tool_source and copy it exactly")
    if count > 1:
        raise EditError(f"old_code occurs {count} times; include more surrounding lines so it is unique")
    return source.replace(old, new, 1)


def function_source(source: str, name: str) -> str:
    """The text of one top-level definition, for `read_tool_source(section=...)`."""
    node = _top_level_defs(_parse(source, "the tool")).get(name)
    if node is None:
        raise EditError(f"no top-level definition named {name!r}")
    first, last = _span(node)
    return "\n".join(source.splitlines()[first - 1 : last])
