"""Lossless reading of the catalogue's `styles.csv`, quirks included."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.errors import LookalikeError
from core.ids import parse_product_id
from core.schema import COLUMNS, TEXT_COLUMNS

NULL_MARKERS = frozenset({"", "NA"})


class StylesError(LookalikeError):
    """`styles.csv` cannot be read at all."""


@dataclass
class RowIssue:
    """A row that needed repair or could not be kept, located by its line in the file."""

    line: int
    reason: str
    id: str | None = None


@dataclass
class StylesTable:
    """The parsed rows plus everything that was repaired or rejected on the way."""

    frame: pd.DataFrame
    rows_read: int
    repaired: list[RowIssue] = field(default_factory=list)
    rejected: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise StylesError(
            f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#x}); "
            "re-save the file as UTF-8 and run again"
        ) from exc


def clean_text(value: str | None) -> str | None:
    """A text field as the catalogue keeps it: trimmed; empty or "NA" is null."""
    value = None if value is None else value.strip()
    return None if value is None or value in NULL_MARKERS else value


def parse_year(raw: str | None) -> tuple[int | None, str | None]:
    """A year as the catalogue keeps it, and why it was dropped (not a number: kept as null)."""
    year = clean_text(raw)
    if year is None:
        return None, None
    if not (year.isascii() and year.isdigit()):
        return None, f"year {year!r} is not a number: kept as null"
    return int(year), None


def read_styles(path: Path) -> StylesTable:
    """Parse `styles.csv`, repairing unquoted commas in product names and keeping every row."""
    if not path.is_file():
        raise StylesError(
            f"{path}: styles.csv not found; point --source (or LOOKALIKE_SOURCE) at the catalogue "
            "folder that holds styles.csv and images/"
        )
    text = _decode(path, path.read_bytes())
    if not text.strip():
        raise StylesError(
            f"{path}:1: the file is empty; expected a header line {','.join(COLUMNS)}"
        )
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise StylesError(
            f"{path}:1: missing required column(s) {', '.join(missing)}; "
            f"the header must name {','.join(COLUMNS)}"
        )
    position = {name: header.index(name) for name in COLUMNS}
    name_at = position["productDisplayName"]
    records: list[dict[str, object]] = []
    table = StylesTable(frame=pd.DataFrame(), rows_read=0)
    seen: dict[int, int] = {}
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        table.rows_read += 1
        if len(fields) > len(header) and name_at == len(header) - 1:
            # Unquoted commas inside the last column (the product name): they belong to it.
            fields = [*fields[:name_at], ",".join(fields[name_at:])]
            table.repaired.append(
                RowIssue(
                    line, "extra commas joined into productDisplayName", fields[position["id"]]
                )
            )
        elif len(fields) != len(header):
            table.rejected.append(
                RowIssue(line, f"expected {len(header)} fields, found {len(fields)}")
            )
            continue
        raw_id = fields[position["id"]].strip()
        product_id = parse_product_id(raw_id)
        if product_id is None:
            table.rejected.append(
                RowIssue(line, f"id {raw_id!r} is not a positive integer", raw_id)
            )
            continue
        if product_id in seen:
            table.rejected.append(
                RowIssue(line, f"id {product_id} repeats line {seen[product_id]}", raw_id)
            )
            continue
        seen[product_id] = line
        record: dict[str, object] = {"id": product_id, "line": line}
        for column in TEXT_COLUMNS:
            record[column] = clean_text(fields[position[column]])
        record["year"], dropped = parse_year(fields[position["year"]])
        if dropped:
            table.warnings.append(RowIssue(line, dropped, raw_id))
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=["id", "line", *TEXT_COLUMNS, "year"])
    frame = frame.astype({"id": "int64", "line": "int64", "year": "Int64"})
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype("string")
    table.frame = frame[["id", *COLUMNS[1:], "line"]]
    return table


def normalise_name(name: str | None) -> str | None:
    """Trim and collapse runs of whitespace in a display name."""
    if name is None:
        return None
    return " ".join(name.split()) or None
