"""The agent's own tools: names and arguments fixed by the contract, schemas for Claude."""

from __future__ import annotations

from typing import Any

_PARAM_ITEM = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "type": {"type": "string", "description": "JSON Schema type: string, integer, number, boolean, array, object"},
        "required": {"type": "boolean"},
        "description": {"type": "string"},
    },
    "required": ["name", "type"],
}

AGENT_TOOLS: list[dict[str, Any]] = [
    {
        "name": "search_implementation_examples",
        "description": "Search the sources of existing tools with a regex; returns up to 10 snippets "
                       "(tool, line, code). Use it to copy proven patterns (paginators, CSV, screenshots).",
        "input_schema": {
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "Python regular expression"},
                "context": {"type": "string", "description": "optional: lines of context per match (default 3)"},
            },
            "required": ["pattern"],
        },
    },
    {
        "name": "read_tool_source",
        "description": "Read the newest source of a tool, or one function of it.",
        "input_schema": {
            "type": "object",
            "properties": {
                "tool_name": {"type": "string"},
                "section": {"type": "string", "description": "optional: a function name"},
            },
            "required": ["tool_name"],
        },
    },
    {
        "name": "generate_new_tool",
        "description": "Create a new tool module. Pass the whole module in `code` (docstring, PARAMETERS, "
                       "run(ctx, ...), and a selftest(ctx) that creates its own data in simulated AWS) to get "
                       "the static-check and selftest report at once; without `code` a skeleton with a TODO "
                       "is written. The new version needs human approval before it runs for real: after "
                       "this call, call the tool by its name and the request waits for the decision.",
        "input_schema": {
            "type": "object",
            "properties": {
                "tool_name": {"type": "string", "description": "snake_case module name"},
                "description": {"type": "string"},
                "parameters": {"type": "array", "items": _PARAM_ITEM},
                "functionality": {"type": "string"},
                "aws_services": {"type": "array", "items": {"type": "string"}},
                "libraries_needed": {"type": "array", "items": {"type": "string"}},
                "code": {"type": "string", "description": "optional: the complete module source"},
                "confirm_new": {"type": "boolean", "description": "true only after a near-duplicate warning, when "
                                                                 "no existing tool can be extended instead"},
                "reason": {"type": "string", "description": "with confirm_new: why a new tool is needed"},
            },
            "required": ["tool_name", "description", "parameters", "functionality"],
        },
    },
    {
        "name": "add_functionality_to_tool",
        "description": "Add code to an existing tool (built-in or generated) as a new version. `code_to_add` "
                       "is inserted after the function named by `insertion_point`, or at the end; a top-level "
                       "definition with the same name as an existing one replaces it. Returns the check report.",
        "input_schema": {
            "type": "object",
            "properties": {
                "existing_tool": {"type": "string"},
                "new_functionality": {"type": "string"},
                "code_to_add": {"type": "string"},
                "insertion_point": {"type": "string", "description": "optional: function name to insert after"},
            },
            "required": ["existing_tool", "new_functionality", "code_to_add"],
        },
    },
    {
        "name": "implement_missing_function",
        "description": "Replace one function of a tool (e.g. a TODO skeleton's run) with a full definition, "
                       "as a new version. Returns the check report.",
        "input_schema": {
            "type": "object",
            "properties": {
                "tool_name": {"type": "string"},
                "function_name": {"type": "string"},
                "implementation": {"type": "string", "description": "the complete `def ...` of the function"},
            },
            "required": ["tool_name", "function_name", "implementation"],
        },
    },
    {
        "name": "fix_tool_code",
        "description": "Fix a tool with one exact, unique text replacement, as a new version. Returns the check "
                       "report and the selftest result.",
        "input_schema": {
            "type": "object",
            "properties": {
                "tool_name": {"type": "string"},
                "old_code": {"type": "string"},
                "new_code": {"type": "string"},
            },
            "required": ["tool_name", "old_code", "new_code"],
        },
    },
    {
        "name": "find_tools",
        "description": "Search every approved tool by what it does; returns candidates with descriptions and "
                       "parameters. Found tools can be called by name from the next turn on.",
        "input_schema": {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "what the tool should do"}},
            "required": ["query"],
        },
    },
    {
        "name": "test_tool",
        "description": "Run the static checks and then the tool's selftest(ctx) against simulated AWS.",
        "input_schema": {
            "type": "object",
            "properties": {"tool_name": {"type": "string"}},
            "required": ["tool_name"],
        },
    },
]

AGENT_TOOL_NAMES = frozenset(t["name"] for t in AGENT_TOOLS)
CODE_WRITING_TOOLS = frozenset(
    {"generate_new_tool", "add_functionality_to_tool", "implement_missing_function", "fix_tool_code"}
)
