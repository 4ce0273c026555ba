"""Tables as evidence files: JSON, CSV and XLSX written as the rows stream in, so no table is held in memory.

`save_table` runs in the tool's process (through `ctx.save_table`). Rows are dicts (or sequences, with
`columns` given). Given columns select the fields to keep; otherwise the columns are the keys of the first
`SAMPLE_ROWS` rows in first-seen order, and when more rows follow, a key first seen later is not dropped:
it goes into the last column, `OTHER_COLUMN`, as JSON. The PDF needs facts only the worker has (the
approver, the request), so the worker renders it from the CSV after the run (`workers.report_pdf`);
asking for a PDF therefore always writes the CSV too.
"""

from __future__ import annotations

import base64
import csv
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from workers.evidence_notes import append_note

FORMATS = ("json", "csv", "xlsx", "pdf")
SAMPLE_ROWS = 1000
OTHER_COLUMN = "(other fields)"
XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows; one is the header
XLSX_MAX_CELL = 32_767
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Sink(Protocol):
    def write(self, row: list[Any]) -> None: ...

    def close(self) -> None: ...


def plain(value: Any) -> Any:
    """A cell as a JSON scalar: nested data as JSON text, times as ISO 8601, bytes as base64."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


class CsvSink:
    def __init__(self, path: Path, columns: list[str]) -> None:
        self._handle = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self._writer.writerow(columns)

    def write(self, row: list[Any]) -> None:
        self._writer.writerow(["" if cell is None else cell for cell in row])

    def close(self) -> None:
        self._handle.close()


class JsonSink:
    """`{"title", "columns", "rows": [{column: value}, ...], "row_count"}`, one row per line."""

    def __init__(self, path: Path, columns: list[str], title: str) -> None:
        self._handle = path.open("w", encoding="utf-8")
        self._columns = columns
        self._count = 0
        head = json.dumps({"title": title, "columns": columns})[:-1]
        self._handle.write(head + ', "rows": [')

    def write(self, row: list[Any]) -> None:
        self._handle.write(("," if self._count else "") + "\n" + json.dumps(dict(zip(self._columns, row,
                                                                                   strict=True))))
        self._count += 1

    def close(self) -> None:
        self._handle.write(f'\n], "row_count": {self._count}}}\n')
        self._handle.close()


class XlsxSink:
    """openpyxl's write-only workbook streams rows to disk; a full sheet continues on the next one."""

    def __init__(self, path: Path, columns: list[str], title: str) -> None:
        from openpyxl import Workbook

        self._path = path
        self._columns = columns
        self._title = re.sub(r"[\[\]:*?/\\]", " ", title)[:24].strip() or "table"
        self._book = Workbook(write_only=True)
        self._sheet: Any = None
        self._rows = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        number = len(self._book.worksheets) + 1
        self._sheet = self._book.create_sheet(self._title if number == 1 else f"{self._title} ({number})")
        self._sheet.append(self._columns)
        self._rows = 0

    def write(self, row: list[Any]) -> None:
        if self._rows == XLSX_MAX_ROWS:
            self._new_sheet()
        self._sheet.append([_xlsx_cell(cell) for cell in row])
        self._rows += 1

    def close(self) -> None:
        self._book.save(self._path)


def _xlsx_cell(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = _XLSX_ILLEGAL.sub("\ufffd", value)
    if len(value) > XLSX_MAX_CELL:
        marker = " [cut: the whole value is in the CSV and JSON files]"
        value = value[: XLSX_MAX_CELL - len(marker)] + marker
    return value


@dataclass(frozen=True)
class Layout:
    """The columns of a table; with `other`, its last column holds fields first seen after the sample."""

    columns: list[str]
    other: bool = False

    def cells(self, row: Any) -> list[Any]:
        """One row as plain cells in column order."""
        if not isinstance(row, dict):
            values = list(row) if isinstance(row, list | tuple) else [row]
            width = len(self.columns) - self.other
            if len(values) != width:
                raise ValueError(f"a row has {len(values)} values for {width} columns")
            return [plain(v) for v in values] + ([None] if self.other else [])
        known = {str(k): v for k, v in row.items()}
        named = self.columns[:-1] if self.other else self.columns
        out = [plain(known.pop(c, None)) for c in named]
        if self.other:
            out.append(json.dumps(known, default=str, sort_keys=True) if known else None)
        return out


def layout_for(rows: Iterator[Any], columns: Sequence[str] | None) -> tuple[Layout, Iterator[Any]]:
    """Given columns select fields; otherwise the first rows' keys, plus an 'other' column when more rows follow."""
    if columns:
        return Layout([str(c) for c in columns]), rows
    sample = list(itertools.islice(rows, SAMPLE_ROWS + 1))
    found: dict[str, None] = {}
    for row in sample:
        if not isinstance(row, dict):
            raise TypeError("rows that are not dicts need `columns`")
        found.update(dict.fromkeys(str(k) for k in row))
    names = list(found) or ["value"]
    more = len(sample) > SAMPLE_ROWS
    return Layout([*names, OTHER_COLUMN] if more else names, other=more), itertools.chain(sample, rows)


def save_table(output_dir: Path, stem: str, rows: Iterable[Any], *, formats: Sequence[str] = ("csv",),
               columns: Sequence[str] | None = None, title: str | None = None) -> dict[str, Any]:
    """Write the table once in every format asked for; return the file names, columns and row count."""
    wanted = [f.lower() for f in formats]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ValueError(f"table formats must be some of {', '.join(FORMATS)}; got {list(formats)!r}")
    written = [f for f in ("json", "csv", "xlsx") if f in wanted or (f == "csv" and "pdf" in wanted)]
    names = {f: f"{stem}.{f}" for f in written}
    title = title or stem
    layout, stream = layout_for(iter(rows), columns)
    sinks = _open(output_dir, names, layout.columns, title)
    count = 0
    try:
        for row in stream:
            values = layout.cells(row)
            for sink in sinks:
                sink.write(values)
            count += 1
    finally:
        for sink in sinks:
            sink.close()
    if "pdf" in wanted:
        names["pdf"] = f"{stem}.pdf"
        append_note(output_dir, "table", names["csv"], pdf=names["pdf"], title=title, rows=count)
    return {"files": names, "columns": layout.columns, "rows": count}


def _open(output_dir: Path, names: dict[str, str], columns: list[str], title: str) -> list[Sink]:
    sinks: list[Sink] = []
    for fmt, name in names.items():
        path = output_dir / name
        if fmt == "csv":
            sinks.append(CsvSink(path, columns))
        elif fmt == "json":
            sinks.append(JsonSink(path, columns, title))
        else:
            sinks.append(XlsxSink(path, columns, title))
    return sinks
