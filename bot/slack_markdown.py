"""Claude's Markdown as Block Kit: sections in Slack mrkdwn, tables readable in Slack, long parts as files.

Parsed with markdown-it-py (CommonMark plus GFM tables and strikethrough), then rendered block by block:
headings become header blocks (h1, h2) or bold lines, lists keep their nesting, code stays code, a rule
becomes a divider. A table becomes an aligned monospace table in a code block (Slack's mrkdwn has no
table syntax); a table too long or too wide for one section shows its first rows and travels whole as a
CSV file. An answer beyond `MAX_BLOCKS` blocks or `MAX_CHARS` characters shows its beginning and travels
whole as `answer.md`.

`*x*` is rendered bold, as it means in Slack mrkdwn (the surface's own texts use it so); `_x_` italic.
Slack's own tokens (`<@U…>`, `<#C…>`, `<!here>`, `<url|label>`) pass through; other `&`, `<`, `>` are escaped.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from bot import texts
from bot.slack_blocks import SECTION_LIMIT, context, divider, header, section

MAX_BLOCKS = 40
MAX_CHARS = 4_000
CELL_CHARS = 40
MAX_TABLE_ROWS = 30
FALLBACK_CHARS = 300
SLACK_TOKEN = re.compile(r"<(?:[@#!][^<>\s]+|(?:https?|mailto):[^<>\s]+)>")
_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


@dataclass
class Rendered:
    """A message: its blocks, the plain fallback `text` (notifications), and files to attach (name, content)."""

    blocks: list[dict[str, Any]]
    fallback: str
    files: list[tuple[str, str]] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` as Slack requires, leaving its own tokens intact."""
    out, last = [], 0
    for token in SLACK_TOKEN.finditer(text):
        out.append(_escape(text[last:token.start()]))
        out.append(token.group(0))
        last = token.end()
    out.append(_escape(text[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "```\n" + _escape(text.replace("```", "ʼʼʼ")).rstrip("\n") + "\n```"


def inline(node: SyntaxTreeNode) -> str:
    """Inline Markdown as mrkdwn."""
    parts = []
    for child in node.children:
        kind = child.type
        if kind == "text":
            parts.append(escape(child.content))
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "code_inline":
            parts.append(f"`{_escape(child.content)}`")
        elif kind == "strong" or (kind == "em" and child.markup == "*"):
            parts.append(f"*{inline(child)}*")
        elif kind == "em":
            parts.append(f"_{inline(child)}_")
        elif kind == "s":
            parts.append(f"~{inline(child)}~")
        elif kind == "link" and child.markup == "autolink":
            parts.append(f"<{plain(child)}>")
        elif kind == "link":
            parts.append(f"<{child.attrs.get('href', '')}|{escape(plain(child)).replace('|', '¦')}>")
        elif kind == "image":
            parts.append(f"<{child.attrs.get('src', '')}|{escape(plain(child) or 'image')}>")
        else:
            parts.append(inline(child) if child.children else escape(child.content))
    return "".join(parts)


def plain(node: SyntaxTreeNode) -> str:
    """The text of an inline node without any formatting (table cells, link labels)."""
    if node.type in ("text", "code_inline"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return " "
    return "".join(plain(child) for child in node.children)


@dataclass
class Table:
    head: list[str]
    rows: list[list[str]]
    right: list[bool]

    def lines(self, rows: list[list[str]]) -> list[str]:
        cells = [[_cell(c) for c in row] for row in [self.head, *rows]]
        widths = [max(len(row[i]) if i < len(row) else 0 for row in cells) for i in range(len(self.head))]

        def line(row: list[str]) -> str:
            padded = [(c.rjust if self.right[i] else c.ljust)(widths[i]) for i, c in enumerate(row + [""] * (
                len(widths) - len(row)))]
            return " | ".join(padded).rstrip()

        return [line(cells[0]), "-+-".join("-" * w for w in widths), *(line(r) for r in cells[1:])]

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.head)
        writer.writerows(self.rows)
        return buffer.getvalue()


def _cell(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _table(node: SyntaxTreeNode) -> Table:
    rows = [[plain(cell) for cell in tr.children] for part in node.children for tr in part.children]
    first_row = node.children[0].children[0].children
    right = ["text-align:right" in (cell.attrs.get("style") or "") for cell in first_row]
    return Table(rows[0], rows[1:], right)


class _Renderer:
    """Walks the block tree; collects blocks and the files that carry what did not fit."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.files: list[tuple[str, str]] = []
        self._text: list[str] = []

    def render(self, root: SyntaxTreeNode) -> None:
        for node in root.children:
            self.block(node)
        self._flush()

    def block(self, node: SyntaxTreeNode) -> None:
        kind = node.type
        if kind == "heading" and node.tag in ("h1", "h2"):
            self._flush()
            self.blocks.append(header(plain(node.children[0]) if node.children else ""))
        elif kind == "heading":
            self._text.append(f"*{inline(node.children[0])}*" if node.children else "")
        elif kind == "hr":
            self._flush()
            self.blocks.append(divider())
        elif kind == "table":
            self._flush()
            self.table(_table(node))
        else:
            self._text.append(self.text(node))

    def text(self, node: SyntaxTreeNode, depth: int = 0) -> str:
        kind = node.type
        if kind == "paragraph":
            return inline(node.children[0]) if node.children else ""
        if kind in ("fence", "code_block"):
            return _code(node.content)
        if kind == "blockquote":
            return "\n".join("> " + line for child in node.children for line in self.text(child).splitlines())
        if kind in ("bullet_list", "ordered_list"):
            start = int(node.attrs.get("start", 1) or 1)
            items = []
            for index, item in enumerate(node.children):
                mark = f"{start + index}." if kind == "ordered_list" else ("•" if depth % 2 == 0 else "◦")
                body = "\n".join(self.text(child, depth + 1) for child in item.children)
                first, *rest = body.split("\n") or [""]
                items.append("\n".join(["    " * depth + f"{mark} {first.lstrip()}", *rest]))
            return "\n".join(items)
        if kind == "heading":
            return f"*{inline(node.children[0])}*" if node.children else ""
        if kind == "inline":
            return inline(node)
        return escape(node.content)

    def table(self, table: Table) -> None:
        shown = min(len(table.rows), MAX_TABLE_ROWS)
        while shown and len(_code("\n".join(table.lines(table.rows[:shown])))) > SECTION_LIMIT:
            shown = max(shown * 3 // 4, shown - 1) if shown > 4 else shown - 1
        cut = any(len(" ".join(c.split())) > CELL_CHARS for row in [table.head, *table.rows] for c in row)
        self.blocks.append(section(_code("\n".join(table.lines(table.rows[:shown])))))
        if shown < len(table.rows) or cut:
            name = f"table-{len(self.files) + 1}.csv"
            self.files.append((name, table.csv()))
            self.blocks.append(context(texts.table_attached(shown, len(table.rows), name)))

    def _flush(self) -> None:
        """Pack the pending text pieces into sections of at most Slack's section length."""
        pieces, self._text = [p for p in self._text if p.strip()], []
        current = ""
        for piece in pieces:
            for part in _split(piece):
                if current and len(current) + 2 + len(part) > SECTION_LIMIT:
                    self.blocks.append(section(current))
                    current = ""
                current = f"{current}\n\n{part}" if current else part
        if current:
            self.blocks.append(section(current))


def _split(piece: str) -> list[str]:
    """A piece longer than a section, cut at line ends (code fences closed and reopened at each cut)."""
    if len(piece) <= SECTION_LIMIT:
        return [piece]
    fenced = piece.startswith("```\n") and piece.endswith("\n```")
    body = piece[4:-4] if fenced else piece
    room = SECTION_LIMIT - (8 if fenced else 0)
    lines = [line[i:i + room] for line in body.split("\n") for i in range(0, max(len(line), 1), room)]
    parts, current = [], ""
    for line in lines:
        if current and len(current) + 1 + len(line) > room:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    parts.append(current)
    return [f"```\n{p}\n```" for p in parts] if fenced else parts


def _block_text(block: dict[str, Any]) -> str:
    if block["type"] == "context":
        return "".join(e.get("text", "") for e in block["elements"])
    return (block.get("text") or {}).get("text", "")


def render(markdown: str) -> Rendered:
    """The message for one answer; see the module docstring for what goes where."""
    renderer = _Renderer()
    renderer.render(SyntaxTreeNode(_PARSER.parse(markdown)))
    blocks, files = renderer.blocks, renderer.files
    total = 0
    for index, block in enumerate(blocks):
        total += len(_block_text(block))
        if index >= MAX_BLOCKS - 1 or total > MAX_CHARS:
            blocks = [*blocks[:index], context(texts.answer_attached())]
            files = [("answer.md", markdown), *files]
            break
    fallback = " ".join(markdown.split())
    return Rendered(blocks, fallback if len(fallback) <= FALLBACK_CHARS else fallback[:FALLBACK_CHARS - 1] + "…",
                    files)
