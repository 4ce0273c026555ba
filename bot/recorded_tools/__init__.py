"""Tool sources that Claude wrote in recorded sessions, replayed by `auditbot demo` and the tests.

They are data for the scripted turns, not built-in tools: the demo submits them through
`generate_new_tool` / `add_functionality_to_tool`, and they go through the same checks and approval.
"""

from importlib.resources import files


def source(name: str) -> str:
    return files(__package__).joinpath(f"{name}.py").read_text(encoding="utf-8")
