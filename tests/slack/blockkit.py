"""Slack's Block Kit limits, checked on what reached the Web API stand-in.

The limits are Slack's documented ones for the blocks auditbot sends: 50 blocks in a message, 100 in a
Home view; section text 3,000 characters (fields 10 of 2,000); header 150; context 10 elements; actions
25 elements; button text 75, value 2,000, action_id 255; confirm title 100, text 300, buttons 30;
block_id 255; a message's fallback text 40,000.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = {"message": 50, "home": 100, "modal": 100}
KNOWN = {"section", "header", "context", "actions", "divider", "image", "rich_text"}


def _text(obj: Any, limit: int, where: str, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in kinds or not isinstance(obj.get("text"), str):
        return [f"{where}: not a text object of type {kinds}: {obj!r:.120}"]
    if not obj["text"]:
        return [f"{where}: empty text"]
    return [f"{where}: {len(obj['text'])} > {limit} characters"] if len(obj["text"]) > limit else []


def _button(button: dict[str, Any], where: str) -> list[str]:
    problems = _text(button.get("text"), 75, f"{where}.text", ("plain_text",))
    if len(str(button.get("value", ""))) > 2000:
        problems.append(f"{where}.value longer than 2000")
    if not button.get("action_id") or len(button["action_id"]) > 255:
        problems.append(f"{where}.action_id missing or longer than 255")
    if button.get("style") not in (None, "primary", "danger"):
        problems.append(f"{where}.style {button['style']!r}")
    confirm = button.get("confirm")
    if confirm:
        problems += _text(confirm.get("title"), 100, f"{where}.confirm.title", ("plain_text",))
        problems += _text(confirm.get("text"), 300, f"{where}.confirm.text")
        problems += _text(confirm.get("confirm"), 30, f"{where}.confirm.confirm", ("plain_text",))
        problems += _text(confirm.get("deny"), 30, f"{where}.confirm.deny", ("plain_text",))
    return problems


def problems(blocks: list[dict[str, Any]], surface: str = "message") -> list[str]:
    """Every broken limit, as readable lines; empty when Slack would take the blocks."""
    found = []
    if not blocks:
        found.append("no blocks")
    if len(blocks) > MAX_BLOCKS[surface]:
        found.append(f"{len(blocks)} blocks > {MAX_BLOCKS[surface]} in a {surface}")
    for i, block in enumerate(blocks):
        kind, where = block.get("type"), f"blocks[{i}]({block.get('type')})"
        if kind not in KNOWN:
            found.append(f"{where}: unknown block type")
        if len(str(block.get("block_id", ""))) > 255:
            found.append(f"{where}.block_id longer than 255")
        if kind == "header":
            found += _text(block.get("text"), 150, where, ("plain_text",))
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                found.append(f"{where}: neither text nor fields")
            if "text" in block:
                found += _text(block["text"], 3000, where)
            fields = block.get("fields") or []
            if len(fields) > 10:
                found.append(f"{where}: {len(fields)} fields > 10")
            for j, field in enumerate(fields):
                found += _text(field, 2000, f"{where}.fields[{j}]")
            if block.get("accessory", {}).get("type") == "button":
                found += _button(block["accessory"], f"{where}.accessory")
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 10:
                found.append(f"{where}: {len(elements)} elements, not 1 to 10")
            for j, element in enumerate(elements):
                found += _text(element, 3000, f"{where}.elements[{j}]")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                found.append(f"{where}: {len(elements)} elements, not 1 to 25")
            for j, element in enumerate(elements):
                found += _button(element, f"{where}.elements[{j}]")
    return found


def message_problems(args: dict[str, Any]) -> list[str]:
    """A chat.postMessage / chat.update / ack payload: its blocks, and a fallback text within 40,000."""
    found = problems(args["blocks"]) if args.get("blocks") else []
    if len(args.get("text") or "") > 40_000:
        found.append("fallback text longer than 40000")
    return found


def view_problems(view: dict[str, Any]) -> list[str]:
    found = problems(view.get("blocks") or [], view.get("type", "home"))
    if view.get("type") != "home":
        found.append(f"view type {view.get('type')!r}, not home")
    if len(view.get("private_metadata", "")) > 3000:
        found.append("private_metadata longer than 3000")
    return found
