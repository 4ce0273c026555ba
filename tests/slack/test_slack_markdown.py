"""Claude's Markdown as Slack Block Kit (bot.slack_markdown): formatting, escaping, tables, limits."""

from __future__ import annotations

from bot.slack_markdown import render
from tests.slack.blockkit import problems


def texts(markdown: str) -> list[str]:
    rendered = render(markdown)
    assert problems(rendered.blocks) == []
    return [b["text"]["text"] for b in rendered.blocks if b["type"] in ("section", "header")]


def test_inline_markdown_becomes_mrkdwn_and_slack_tokens_survive_escaping():
    assert texts("**bold** *also bold* _italic_ ~~gone~~ `a<b` [docs](https://d.example) <https://x.example|X> "
                 "<@U123> <#C9> <!here> 1 < 2 & 3 > 2") == [
        "*bold* *also bold* _italic_ ~gone~ `a&lt;b` <https://d.example|docs> <https://x.example|X> "
        "<@U123> <#C9> <!here> 1 &lt; 2 &amp; 3 &gt; 2"]


def test_lists_code_quotes_and_headings_keep_their_shape():
    assert texts("### Steps\n1. one\n2. two\n   - inner\n\n> quoted\n\n```\nprint('```')\n```") == [
        "*Steps*\n\n1. one\n2. two\n    ◦ inner\n\n> quoted\n\n```\nprint('ʼʼʼ')\n```"]


def test_wide_cells_are_cut_in_the_message_and_whole_in_the_csv():
    rendered = render("| name | note |\n|---|---|\n| a | " + "x" * 100 + " |\n")
    assert "x" * 39 + "…" in rendered.blocks[0]["text"]["text"]
    assert rendered.files == [("table-1.csv", "name,note\r\na," + "x" * 100 + "\r\n")]


def test_every_part_of_a_huge_answer_fits_slack():
    huge = "\n\n".join(f"## Part {n}\n" + "word " * 500 + "\n```\n" + "line\n" * 300 + "```" for n in range(30))
    rendered = render(huge)
    assert problems(rendered.blocks) == [] and len(rendered.blocks) <= 40
    assert rendered.files[0] == ("answer.md", huge) and len(rendered.fallback) <= 300
