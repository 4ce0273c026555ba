"""The PDF of a table: a cover page an auditor can rely on, then readable tables with page numbers.

The worker renders it after the run, from the table's CSV, because the cover carries facts only the
worker knows and a tool cannot forge: the request and requester, the approver, the account, region
and window, the collection time, the tool version, and the sha256 of every data file of the run.
At most `PDF_MAX_ROWS` rows are drawn; a longer table says, on the cover and after the last row,
that the PDF is a summary and which CSV holds every row. Wide tables are split into groups of
`MAX_COLUMNS` columns, each with its header repeated on every page; long cells are shortened, and
the PDF says so. Cell text is escaped: nothing in the data is read as markup.
"""

from __future__ import annotations

import csv
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

PDF_MAX_ROWS = 1000
MAX_COLUMNS = 8
MAX_CELL_CHARS = 300
CHUNK_ROWS = 200
PAGE = landscape(A4)
MARGIN = 12 * mm
HEADER_BG = colors.HexColor("#1f3a5f")
STRIPE_BG = colors.HexColor("#f0f3f7")


@dataclass(frozen=True)
class Cover:
    """What the cover page states, each value already in words."""

    title: str
    facts: list[tuple[str, str]]
    data_files: list[tuple[str, str]]
    footer: str
    notes: list[str] = field(default_factory=list)


def summary_note(shown: int, total: int, csv_name: str) -> str | None:
    if total <= shown:
        return None
    return (f"This PDF is a summary: it shows the first {shown:,} of {total:,} rows. "
            f"Every row is in {csv_name}, listed with its sha256 above, in the same evidence folder.")


def render_table_pdf(pdf_path: Path, csv_path: Path, cover: Cover, *, max_rows: int = PDF_MAX_ROWS) -> int:
    """Write the PDF; return how many rows it shows. The CSV is read once, as a stream."""
    styles = _styles()
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = _reader(handle)
        header = next(reader, [])
        shown = list(itertools.islice(reader, max_rows))
        total = len(shown) + sum(1 for _ in reader)
    notes = list(cover.notes)
    summary = summary_note(len(shown), total, csv_path.name)
    if summary:
        notes.insert(0, summary)
    if any(len(cell) > MAX_CELL_CHARS for row in shown for cell in row):
        notes.append(f"Cells longer than {MAX_CELL_CHARS} characters are shortened here and end in '…'; "
                     f"{csv_path.name} holds them whole.")
    story: list[Any] = [*_cover(cover, total, notes, styles), PageBreak()]
    story += _tables(header, shown, styles)
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph(escape(summary or f"End of table: all {total:,} rows are shown."), styles["note"]))
    document = SimpleDocTemplate(str(pdf_path), pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                                 topMargin=MARGIN, bottomMargin=MARGIN + 4 * mm, title=cover.title,
                                 author="auditbot", subject=cover.footer)
    document.build(story, canvasmaker=_numbered(cover.footer))
    return len(shown)


def _reader(handle: Any) -> Iterator[list[str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # evidence cells can be long (policies, log lines)
    return csv.reader(handle)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": base["Title"],
        "key": ParagraphStyle("key", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=9, leading=11),
        "value": ParagraphStyle("value", parent=base["Normal"], fontSize=9, leading=11),
        "mono": ParagraphStyle("mono", parent=base["Normal"], fontName="Courier", fontSize=8, leading=10),
        "heading": base["Heading3"],
        "note": ParagraphStyle("note", parent=base["Normal"], fontSize=9, leading=11, textColor=colors.darkred),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontSize=7, leading=8.5),
        "head": ParagraphStyle("head", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=7, leading=8.5,
                               textColor=colors.white),
    }


def _cover(cover: Cover, total: int, notes: list[str], styles: dict[str, ParagraphStyle]) -> list[Any]:
    width = PAGE[0] - 2 * MARGIN
    facts = [*cover.facts, ("Rows", f"{total:,}")]
    fact_rows = [[Paragraph(escape(k), styles["key"]), Paragraph(escape(v), styles["value"])] for k, v in facts]
    files = [[Paragraph(escape(name), styles["value"]), Paragraph(escape(digest), styles["mono"])]
             for name, digest in cover.data_files]
    grid = TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (0, -1), STRIPE_BG)])
    story: list[Any] = [Paragraph(escape(cover.title), styles["title"]),
                        Table(fact_rows, colWidths=[45 * mm, width - 45 * mm], style=grid)]
    if files:
        story += [Spacer(1, 4 * mm), Paragraph("Data files of this run (sha256)", styles["heading"]),
                  Table(files, colWidths=[90 * mm, width - 90 * mm], style=grid)]
    story += [Spacer(1, 3 * mm)] + [Paragraph(escape(note), styles["note"]) for note in notes]
    return [KeepTogether(story)]


def _cell(text: str, style: ParagraphStyle) -> Paragraph:
    if len(text) > MAX_CELL_CHARS:
        text = text[:MAX_CELL_CHARS] + "…"
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _tables(header: list[str], rows: list[list[str]], styles: dict[str, ParagraphStyle]) -> list[Any]:
    """One section per group of columns; each a run of tables whose header repeats on every page."""
    width = PAGE[0] - 2 * MARGIN
    groups = [list(range(i, min(i + MAX_COLUMNS, len(header)))) for i in range(0, len(header), MAX_COLUMNS)]
    story: list[Any] = []
    style = TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BG), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE_BG]),
    ])
    for number, group in enumerate(groups, start=1):
        if len(groups) > 1:
            if number > 1:
                story.append(PageBreak())
            story.append(Paragraph(f"Columns {group[0] + 1}–{group[-1] + 1} of {len(header)}", styles["heading"]))
        head = [_cell(header[i], styles["head"]) for i in group]
        widths = _widths(header, rows, group, width)
        for start in range(0, max(len(rows), 1), CHUNK_ROWS):
            body = [[_cell(row[i] if i < len(row) else "", styles["cell"]) for i in group]
                    for row in rows[start:start + CHUNK_ROWS]]
            story.append(Table([head, *body], colWidths=widths, repeatRows=1, style=style))
    return story


def _widths(header: list[str], rows: list[list[str]], group: list[int], width: float) -> list[float]:
    """Columns share the width by how long their texts run (first rows sampled, bounded both ways)."""
    sample = rows[:200]
    weights = []
    for i in group:
        lengths = sorted(len(row[i]) if i < len(row) else 0 for row in sample) or [0]
        typical = lengths[int(len(lengths) * 0.9) - 1 if len(lengths) > 1 else 0]
        weights.append(min(max(typical, len(header[i]), 6), 60))
    total = sum(weights)
    return [width * w / total for w in weights]


def _numbered(footer: str) -> type[Canvas]:
    """A canvas that holds its pages until the end, so each can say 'page i of n'."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("Helvetica", 7)
                self.setFillColor(colors.grey)
                self.drawString(MARGIN, MARGIN / 2, footer[:180])
                self.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, f"Page {self._pageNumber} of {len(self._pages)}")
                super().showPage()
            super().save()

    return NumberedCanvas
