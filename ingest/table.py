"""Lossless reading of a catalogue's table (.csv, .tsv, .jsonl or .parquet) by its schema."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.errors import LookalikeError
from core.ids import parse_product_id
from core.schema import CatalogueSchema

IMAGE_SOURCE = "image_source"  # the image column's value, when the schema names one
NULL_MARKERS = frozenset({"", "NA"})
INTEGER = re.compile(r"^[+-]?[0-9]+$")
DECIMAL = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
DELIMITERS = {".csv": (",", "commas"), ".tsv": ("\t", "tabs")}
Number = int | float


class TableError(LookalikeError):
    """The catalogue's table cannot be read at all."""


@dataclass
class RowIssue:
    """A row that needed repair or could not be kept, located by its line (or record) number."""

    line: int
    reason: str
    id: str | None = None


@dataclass
class SourceTable:
    """The parsed rows plus everything that was repaired or rejected on the way."""

    frame: pd.DataFrame
    rows_read: int
    repaired: list[RowIssue] = field(default_factory=list)
    rejected: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, Any] | None  # None: rejected with `problem`
    problem: str | None = None
    repaired: str | None = None


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TableError(
            f"{path}:{line}: not UTF-8 text (byte {raw[exc.start]:#x}); "
            "re-save the file as UTF-8 and run again"
        ) from exc


def clean_text(value: Any) -> str | None:
    """A text field as the catalogue keeps it: trimmed; empty or "NA" is null."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return None if text in NULL_MARKERS else text


def parse_number(raw: Any, column: str) -> tuple[Number | None, str | None]:
    """A numeric field as the catalogue keeps it, and why it was dropped (kept as null)."""
    if isinstance(raw, bool):
        return None, f"{column} {raw!r} is not a number: kept as null"
    if isinstance(raw, int):
        return raw, None
    if isinstance(raw, float):
        return (raw, None) if math.isfinite(raw) else (None, None)
    text = clean_text(raw)
    if text is None:
        return None, None
    if text.isascii() and INTEGER.match(text):
        return int(text), None
    if text.isascii() and DECIMAL.match(text) and math.isfinite(float(text)):
        return float(text), None
    return None, f"{column} {text!r} is not a number: kept as null"


def _delimited(path: Path, schema: CatalogueSchema) -> tuple[list[str], Iterator[_Row]]:
    delimiter, plural = DELIMITERS[path.suffix.lower()]
    text = _decode(path, path.read_bytes())
    if not text.strip():
        raise TableError(
            f"{path}:1: the file is empty; expected a header line "
            f"{delimiter.join(schema.source_columns)}"
        )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    last = header[-1]

    def rows() -> Iterator[_Row]:
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            repaired = None
            if len(fields) > len(header) and last == schema.title:
                # Unquoted delimiters inside the last column (the title): they belong to it.
                fields = [*fields[: len(header) - 1], delimiter.join(fields[len(header) - 1 :])]
                repaired = f"extra {plural} joined into {last}"
            elif len(fields) != len(header):
                problem = f"expected {len(header)} fields, found {len(fields)}"
                yield _Row(line, None, problem)
                continue
            yield _Row(line, dict(zip(header, fields, strict=True)), repaired=repaired)

    return header, rows()


def _json_lines(path: Path) -> tuple[list[str], Iterator[_Row]]:
    records: list[_Row] = []
    for line, text in enumerate(_decode(path, path.read_bytes()).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            records.append(_Row(line, None, f"not JSON ({exc})"))
            continue
        if isinstance(value, dict):
            records.append(_Row(line, value))
        else:
            records.append(_Row(line, None, f"a JSON {type(value).__name__}, not an object"))
    if not records:
        raise TableError(f"{path}:1: the file is empty; expected one JSON object per line")
    columns = dict.fromkeys(k for r in records if r.values for k in r.values)
    return list(columns), iter(records)


def _parquet(path: Path) -> tuple[list[str], Iterator[_Row]]:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise TableError(f"{path}: not a readable Parquet file ({exc}); export it again") from exc
    frame = frame.astype(object).where(frame.notna(), None)
    records = frame.to_dict("records")
    rows = (_Row(n, {str(k): v for k, v in r.items()}) for n, r in enumerate(records, start=1))
    return [str(c) for c in frame.columns], rows


def _rows(path: Path, schema: CatalogueSchema) -> tuple[list[str], Iterator[_Row]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _json_lines(path)
    if suffix == ".parquet":
        return _parquet(path)
    return _delimited(path, schema)


def read_table(source: Path, schema: CatalogueSchema) -> SourceTable:
    """Parse the schema's table in `source`, keeping every row or listing why not.

    Text fields are trimmed ("" and "NA" are null), numeric fields become numbers (anything else
    is kept as null with a warning); a row without a valid, unique id is rejected.
    """
    path = source / schema.table
    if not path.is_file():
        raise TableError(
            f"{path}: {schema.table} not found; point --source (or LOOKALIKE_SOURCE) at the "
            f"catalogue folder that holds it, or fix [table] path in the schema"
        )
    header, rows = _rows(path, schema)
    missing = [c for c in schema.source_columns if c not in header]
    if missing:
        raise TableError(
            f"{path}:1: missing required column(s) {', '.join(missing)}; the schema names "
            f"{','.join(schema.source_columns)}: add the column or fix the schema"
        )
    table = SourceTable(frame=pd.DataFrame(), rows_read=0)
    records: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for row in rows:
        table.rows_read += 1
        if row.values is None:
            table.rejected.append(RowIssue(row.line, str(row.problem)))
            continue
        raw_id = clean_text(row.values.get(schema.id)) or ""
        if row.repaired:
            table.repaired.append(RowIssue(row.line, row.repaired, raw_id))
        product_id = parse_product_id(raw_id)
        if product_id is None:
            reason = f"{schema.id} {raw_id!r} is not a positive integer"
            table.rejected.append(RowIssue(row.line, reason, raw_id))
            continue
        if product_id in seen:
            reason = f"{schema.id} {product_id} repeats line {seen[product_id]}"
            table.rejected.append(RowIssue(row.line, reason, raw_id))
            continue
        seen[product_id] = row.line
        record: dict[str, Any] = {"id": product_id, "line": row.line}
        for column in schema.text_fields:
            record[column] = clean_text(row.values.get(column))
        for column in schema.numeric:
            record[column], dropped = parse_number(row.values.get(column), column)
            if dropped:
                table.warnings.append(RowIssue(row.line, dropped, raw_id))
        if schema.image_column:
            record[IMAGE_SOURCE] = clean_text(row.values.get(schema.image_column))
        records.append(record)
    table.frame = _typed(records, schema)
    return table


def _columns(schema: CatalogueSchema) -> list[str]:
    image = [IMAGE_SOURCE] if schema.image_column else []
    return ["id", *schema.fields[1:], "line", *image]


def _typed(records: list[dict[str, Any]], schema: CatalogueSchema) -> pd.DataFrame:
    """Ids int64, text fields `string`, numeric fields Int64 (all integers) or Float64."""
    columns = {c: [r[c] for r in records] for c in _columns(schema)}
    frame = pd.DataFrame({c: pd.array(v, dtype=object) for c, v in columns.items()})
    frame = frame.astype({"id": "int64", "line": "int64"})
    for column in (*schema.text_fields, *([IMAGE_SOURCE] if schema.image_column else [])):
        frame[column] = frame[column].astype("string")
    for column in schema.numeric:
        frame[column] = pd.array(columns[column], dtype=numeric_dtype(columns[column]))
    return frame


def numeric_dtype(values: list[Any]) -> str:
    """Int64 when every value is an integer (or null), else Float64."""
    integral = all(v is None or isinstance(v, int) for v in values)
    return "Int64" if integral else "Float64"


def normalise_name(name: str | None) -> str | None:
    """Trim and collapse runs of whitespace in a display name."""
    if name is None:
        return None
    return " ".join(name.split()) or None
